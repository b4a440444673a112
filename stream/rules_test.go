package stream

import (
	"errors"
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
		g, err := sysmongen.New(sysmongen.Config{Seed: seed, Hosts: 24, AttackRate: 0.01, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		recs := make([]streamtest.Record, n)
		for i := range recs {
			recs[i].Value = g.Next(nil)
		}
		return recs
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
