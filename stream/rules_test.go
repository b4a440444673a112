package stream

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// TestManyRulesLive runs the seed rule and the repository's test rules
// (ruletest.Catalog) in one pipeline over a generated mixed-shape stream
// and checks the alerts topic against each rule's expected alerts computed
// alone (streamtest.Expect with a detector of that one rule): together they
// must publish exactly the union, every record carrying its rule's id and
// version (rules.Compiled.Version) in its headers, and Stats must count
// each rule's alerts.
func TestManyRulesLive(t *testing.T) {
	e := newEnv(t, 4)
	recs := generated(t, sysmongen.Config{Seed: 5, Hosts: 24, AttackRate: 0.01}, 6000)
	e.produce(recs)
	placed := e.placed()

	cs := ruletest.Catalog(t)
	want := map[string]*window.Alert{}
	perRule := map[string]int64{}
	versions := map[string]string{}
	for _, c := range cs {
		d, err := detector.New([]*rules.Compiled{c}, detector.Options{})
		if err != nil {
			t.Fatal(err)
		}
		alone := streamtest.Expect(d, placed, 0)
		maps.Copy(want, alone)
		perRule[c.Rule.ID] = int64(len(alone))
		versions[c.Rule.ID] = c.Version()
	}
	alerting := 0
	for _, n := range perRule {
		if n > 0 {
			alerting++
		}
	}
	if alerting < 3 {
		t.Fatalf("only %d rules alert on the generated stream (%v)", alerting, perRule)
	}

	cfg := e.config()
	cfg.Rules = cs
	m := e.start(cfg)
	pub := e.waitAlerts(want, 90*time.Second)
	for id, recs := range pub {
		for _, r := range recs {
			if r.RuleVersion != versions[r.RuleID] {
				t.Errorf("alert %s of rule %s: msiguard-rule-version %q, want %q", id, r.RuleID, r.RuleVersion, versions[r.RuleID])
			}
		}
	}
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	if got := m.p.Stats().AlertsByRule; !maps.Equal(got, perRule) {
		t.Errorf("Stats.AlertsByRule = %v, want %v", got, perRule)
	}
	t.Logf("alerts per rule: %v", perRule)
}

// TestReload switches a running pipeline from the seed rule to the seed
// rule and the test catalog (Reload, what SIGHUP does): a rule set that
// does not load is refused and counted while the pipeline stays ready, an
// unchanged one is a no-op, and after the switch the seed rule's alerts
// over the records before and after it are exactly those expected from all
// of them (nothing lost or duplicated across the drain and restore), and
// each new rule's alerts over the records after it are exactly expected.
func TestReload(t *testing.T) {
	e := newEnv(t, 4)
	gen := func(seed uint64, start time.Time, n int) []streamtest.Record {
		return generated(t, sysmongen.Config{Seed: seed, Hosts: 24, AttackRate: 0.01, Start: start}, n)
	}
	seed := ruletest.Seed(t)
	cs := ruletest.Catalog(t)
	expect := func(placed []streamtest.Placed, rs ...*rules.Compiled) map[string]*window.Alert {
		out := map[string]*window.Alert{}
		for _, r := range rs {
			d, err := detector.New([]*rules.Compiled{r}, detector.Options{})
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(out, streamtest.Expect(d, placed, 0))
		}
		return out
	}

	e.produce(gen(5, sysmongen.DefaultStart, 3000))
	before := e.placed()
	cfg := e.config()
	m := e.start(cfg)
	e.waitAlerts(expect(before, seed), 60*time.Second)

	if _, err := m.p.Reload(func() ([]*rules.Compiled, error) { return nil, errors.New("rules/x.yml:3:7: unknown command") }); !errors.Is(err, ErrReloadRefused) {
		t.Errorf("a failing load: err %v, want ErrReloadRefused", err)
	}
	dup := []*rules.Compiled{seed, seed}
	if _, err := m.p.Reload(func() ([]*rules.Compiled, error) { return dup, nil }); !errors.Is(err, ErrReloadRefused) {
		t.Errorf("two rules with one id: err %v, want ErrReloadRefused", err)
	}
	if st := m.p.Stats(); st.RuleReloadFailures != 2 || st.RuleReloads != 0 {
		t.Errorf("after two refused reloads: %d failures, %d reloads; want 2 and 0", st.RuleReloadFailures, st.RuleReloads)
	}
	if err := m.p.Ready(); err != nil {
		t.Errorf("not ready after a refused reload: %v", err)
	}
	if changed, err := m.p.Reload(func() ([]*rules.Compiled, error) { return []*rules.Compiled{ruletest.Seed(t)}, nil }); changed || err != nil {
		t.Errorf("reloading the same rule: changed %v, err %v; want a no-op", changed, err)
	}
	if changed, err := m.p.Reload(func() ([]*rules.Compiled, error) { return cs, nil }); !changed || err != nil {
		t.Fatalf("reloading the catalog: changed %v, err %v", changed, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for m.p.Stats().RuleReloads != 1 || m.p.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the reload did not complete: %+v, ready: %v", m.p.Stats(), m.p.Ready())
		}
		time.Sleep(50 * time.Millisecond)
	}

	e.produce(gen(6, sysmongen.DefaultStart.Add(time.Hour), 3000))
	all := e.placed()
	seen := map[[2]int64]bool{}
	for _, r := range before {
		seen[[2]int64{int64(r.Partition), r.Offset}] = true
	}
	var after []streamtest.Placed
	for _, r := range all {
		if !seen[[2]int64{int64(r.Partition), r.Offset}] {
			after = append(after, r)
		}
	}
	if len(after) != 3000 {
		t.Fatalf("%d records after the reload, want 3000", len(after))
	}
	want := expect(all, seed)
	maps.Copy(want, expect(after, cs[1:]...))
	// Records before the switch are read again by the new rules only if
	// the drain's commit failed; such alerts must then be exact too.
	reread := expect(before, cs[1:]...)
	e.waitAlertsBy(want, 90*time.Second, func(pub map[string][]streamtest.Published) []string {
		extra := map[string]*window.Alert{}
		for id := range pub {
			if _, ok := want[id]; !ok && reread[id] != nil {
				extra[id] = reread[id]
			}
		}
		w := maps.Clone(want)
		maps.Copy(w, extra)
		return streamtest.Check(pub, w)
	})
	m.stop(t, 25*time.Second)
}

// TestRuleAlertsTopics routes every rule of the test catalog but the seed
// to a second alerts topic (Config.RuleAlertsTopics): each topic must hold
// exactly the alerts of the rules routed to it, as computed for each rule
// alone. A restarted member must then restore the alerts of both topics
// (RestoredAlerts counts every expected alert, not only the seed's), so
// that the records after the restart revise them instead of publishing
// them again as revision 1, and both topics must still hold exactly what
// all the records make.
func TestRuleAlertsTopics(t *testing.T) {
	e := newEnv(t, 4)
	other := e.alerts + ".routed"
	e.c.CreateTopic(t, other, 3)
	recs := generated(t, sysmongen.Config{Seed: 11, Hosts: 16, AttackRate: 0.01}, 4000)

	cs := ruletest.Catalog(t)
	seedID := rules.Default().ID
	route := map[string]string{}
	for _, c := range cs {
		if c.Rule.ID != seedID {
			route[c.Rule.ID] = other
		}
	}
	// expect returns the alerts each topic must hold after the records
	// placed so far, each rule's computed alone.
	expect := func() (byTopic map[string]map[string]*window.Alert) {
		placed := e.placed()
		byTopic = map[string]map[string]*window.Alert{e.alerts: {}, other: {}}
		for _, c := range cs {
			d, err := detector.New([]*rules.Compiled{c}, detector.Options{})
			if err != nil {
				t.Fatal(err)
			}
			topic := e.alerts
			if c.Rule.ID != seedID {
				topic = other
			}
			maps.Copy(byTopic[topic], streamtest.Expect(d, placed, 0))
		}
		return byTopic
	}
	check := func(topic string, want map[string]*window.Alert) func(map[string][]streamtest.Published) []string {
		return func(pub map[string][]streamtest.Published) []string {
			problems := streamtest.Check(pub, want)
			for id, rs := range pub {
				for _, r := range rs {
					if got := route[r.RuleID]; (got == "" && topic != e.alerts) || (got != "" && got != topic) {
						problems = append(problems, fmt.Sprintf("alert %s of rule %s is on topic %s", id, r.RuleID, topic))
					}
				}
			}
			return problems
		}
	}

	e.produce(recs[:2000])
	want := expect()
	if len(want[e.alerts]) == 0 || len(want[other]) == 0 {
		t.Fatalf("the stream alerts on one topic only: %d seed alerts, %d routed", len(want[e.alerts]), len(want[other]))
	}
	cfg := e.config()
	cfg.Rules = cs
	cfg.RuleAlertsTopics = route
	m := e.start(cfg)
	for topic, w := range want {
		e.waitTopicAlerts(topic, w, 90*time.Second, check(topic, w))
	}
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)

	e.produce(recs[2000:])
	m = e.start(cfg)
	final := expect()
	for topic, w := range final {
		e.waitTopicAlerts(topic, w, 90*time.Second, check(topic, w))
	}
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	if got, n := m.p.Stats().RestoredAlerts, int64(len(want[e.alerts])+len(want[other])); got != n {
		t.Errorf("the restarted member restored %d alerts, want %d (%d from %s, %d from %s)", got, n, len(want[e.alerts]), e.alerts, len(want[other]), other)
	}
	t.Logf("alerts: %d on %s, %d on %s", len(final[e.alerts]), e.alerts, len(final[other]), other)
}

// TestRuleAlertsTopicsValidate: a route to an unknown rule, to an invalid
// or empty name, or to a topic the pipeline uses for something else is a
// FieldError for RuleAlertsTopics; a route to AlertsTopic itself is fine.
func TestRuleAlertsTopicsValidate(t *testing.T) {
	base := Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq"}
	seed := rules.Default().ID
	for _, tc := range []struct {
		route map[string]string
		want  string // in the error; "" for none
	}{
		{map[string]string{seed: "alerts.seed"}, ""},
		{map[string]string{seed: "alerts"}, ""},
		{map[string]string{"no.such.rule": "alerts.x"}, "names rule no.such.rule, which is not among the rules loaded"},
		{map[string]string{seed: ""}, "is empty"},
		{map[string]string{seed: "bad topic"}, "not allowed"},
		{map[string]string{seed: "dlq"}, "is the DLQTopic"},
		{map[string]string{seed: "in"}, "is the Topic"},
		{map[string]string{seed: "alerts.matches"}, "is the MatchesTopic"},
	} {
		c := base
		c.RuleAlertsTopics = tc.route
		err := c.Validate()
		var fe *kafkaio.FieldError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.route, err)
		case tc.want != "" && (!errors.As(err, &fe) || fe.Field != "RuleAlertsTopics" || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: err = %v, want a RuleAlertsTopics FieldError containing %q", tc.route, err, tc.want)
		}
	}
}

// generated returns n records of a generator configured by cfg.
func generated(t *testing.T, cfg sysmongen.Config, n int) []streamtest.Record {
	t.Helper()
	g, err := sysmongen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]streamtest.Record, n)
	for i := range recs {
		recs[i].Value = g.Next(nil)
	}
	return recs
}

// TestReloadKeepsRoutes: a reload that drops a routed rule is accepted (its
// route waits, with a warning) and the routes stay as New checked them.
func TestReloadKeepsRoutes(t *testing.T) {
	cs := ruletest.Catalog(t)
	routed := cs[1].Rule.ID
	p, err := New(Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq",
		Rules: cs, RuleAlertsTopics: map[string]string{routed: "alerts.routed"}, Logger: kafkatest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	changed, err := p.Reload(func() ([]*rules.Compiled, error) { return cs[:1], nil })
	if err != nil || !changed {
		t.Fatalf("reload without the routed rule: changed %v, err %v", changed, err)
	}
	if got := p.cfg.alertsTopicOf(routed); got != "alerts.routed" {
		t.Errorf("after the reload rule %s goes to %q, want alerts.routed", routed, got)
	}
	if _, err := New(Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq",
		Rules: cs[:1], RuleAlertsTopics: map[string]string{routed: "alerts.routed"}}); err == nil {
		t.Error("New accepted a route to a rule that is not loaded")
	}
}

// TestOwnsAlert: restore and the stale-alert tail keep an alert only from
// the topic its rule's alerts go to now (README, "Route them"): after a
// rule moves to its own topic, its alerts left in the old one are history,
// not state, and an alert of a rule not loaded is nobody's.
func TestOwnsAlert(t *testing.T) {
	seed := rules.Default().ID
	base := Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq"}
	routed := base
	routed.RuleAlertsTopics = map[string]string{seed: "alerts.seed"}
	for _, tc := range []struct {
		cfg   Config
		topic string
		rule  string
		want  bool
	}{
		{base, "alerts", seed, true},
		{base, "alerts.seed", seed, false},
		{routed, "alerts.seed", seed, true},
		{routed, "alerts", seed, false}, // moved: what it left behind stays history
		{routed, "alerts", "not.loaded", false},
		{base, "alerts", "not.loaded", false},
	} {
		p, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.ownsAlert(tc.topic, &window.Alert{RuleID: tc.rule}); got != tc.want {
			t.Errorf("routes %v: ownsAlert(%s, rule %s) = %v, want %v", tc.cfg.RuleAlertsTopics, tc.topic, tc.rule, got, tc.want)
		}
	}
}
