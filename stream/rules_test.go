package stream

import (
	"maps"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmongen"
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
	g, err := sysmongen.New(sysmongen.Config{Seed: 5, Hosts: 24, AttackRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]streamtest.Record, 6000)
	for i := range recs {
		recs[i].Value = g.Next(nil)
	}
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
