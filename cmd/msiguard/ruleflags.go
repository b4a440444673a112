package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/msiguard/msiguard/rules"
)

// ruleFlags choose the rules run, the same in run, backtest and demo.
type ruleFlags struct {
	rulePaths  stringList // --rule FILE and --rules DIR, in the order given
	macrosFile string
}

// pathList is a repeatable flag whose values go to one shared list, so
// that --rule and --rules keep their order on the command line.
type pathList struct {
	list *stringList
	dir  bool
}

func (p pathList) String() string {
	if p.list == nil {
		return ""
	}
	return p.list.String()
}

func (p pathList) Set(v string) error {
	st, err := os.Stat(v)
	switch {
	case err != nil:
		return err
	case p.dir && !st.IsDir():
		return fmt.Errorf("%s is a file: give it with --rule", v)
	case !p.dir && st.IsDir():
		return fmt.Errorf("%s is a directory: give it with --rules", v)
	}
	return p.list.Set(v)
}

func (r *ruleFlags) register(fs *flag.FlagSet) {
	fs.Var(pathList{list: &r.rulePaths}, "rule", "a rule `FILE` in the catalog's YAML format to run instead of the built-in seed rule (repeatable; with --rules, all run together in one pass); see msiguard rules --help")
	fs.Var(pathList{list: &r.rulePaths, dir: true}, "rules", "a `DIR`ectory of rule files (its *.yml and *.yaml, except macros.yml) to run (repeatable)")
	fs.StringVar(&r.macrosFile, "macros", "", "a macros `FILE` adding to the built-in get_endpoint_data and get_endpoint_data_sysmon")
}

// compile loads and compiles the rules; with no --rules, the built-in seed
// rule. Errors name each file, line and column.
func (r *ruleFlags) compile() ([]*rules.Compiled, error) {
	macros := rules.DefaultMacros()
	if r.macrosFile != "" {
		m, err := rules.LoadMacros(r.macrosFile)
		if err != nil {
			return nil, err
		}
		macros = macros.With(m)
	}
	rs := []*rules.Rule{rules.Default()}
	if len(r.rulePaths) > 0 {
		var err error
		if rs, err = rules.LoadPaths(r.rulePaths); err != nil {
			return nil, err
		}
	}
	return rules.CompileAll(rs, macros)
}

// ruleTopics is --rule-alerts-topic: rule id to alerts topic, from
// repeated ID=TOPIC values or one comma-separated list (its environment
// variable).
type ruleTopics map[string]string

func (r *ruleTopics) String() string {
	if r == nil || len(*r) == 0 {
		return ""
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(*r)) {
		out = append(out, id+"="+(*r)[id])
	}
	return strings.Join(out, ",")
}

func (r *ruleTopics) Set(v string) error {
	for _, kv := range strings.Split(v, ",") {
		id, topic, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || id == "" || topic == "" {
			return fmt.Errorf("want RULE_ID=TOPIC (the rule's id, as msiguard rules explain prints it), not %q", kv)
		}
		if *r == nil {
			*r = ruleTopics{}
		}
		if prev, dup := (*r)[id]; dup && prev != topic {
			return fmt.Errorf("rule %s is routed twice (%s and %s)", id, prev, topic)
		}
		(*r)[id] = topic
	}
	return nil
}
