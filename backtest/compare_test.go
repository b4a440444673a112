package backtest

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/window"
)

// TestCompareTunedSeed backtests the seed rule and a tuning of it (an
// extra parent, a host excluded by `| search NOT host=`, a parent path
// excluded) over a generated stream and checks backtest.Compare against an
// independent computation: each rule's matches taken line by line and
// grouped per (host, second) (batchAnswer, no window), and the buckets'
// value sets and counts compared with plain map and set operations.
func TestCompareTunedSeed(t *testing.T) {
	seed := ruletest.Seed(t)
	tuned := ruletest.Variant(t, "",
		`wininit)\.exe`, `wininit|explorer)\.exe`,
		`| table`, `| search NOT host=WS-FIN-* NOT parent_process_path="C:\\Windows\\System32\\cmd.exe" | table`)
	in := generatedLines(t, sysmongen.Config{Seed: 21, Hosts: 60, AttackRate: 0.01, DecoyRate: 0.02}, 30_000)
	long := window.Config{Retain: 1 << 62, RetainBuckets: 1 << 20}
	oldRun := runFiles(t, Config{Detector: mustDetector(t, seed), Window: long}, [2]string{"gen", in})
	newRun := runFiles(t, Config{Detector: mustDetector(t, tuned), Window: long}, [2]string{"gen", in})
	c := Compare(oldRun.alerts(t), newRun.alerts(t))

	// The independent answer.
	wantOld, _, _ := batchAnswer(t, mustDetector(t, seed), []byte(in))
	wantNew, _, _ := batchAnswer(t, mustDetector(t, tuned), []byte(in))
	type change struct {
		kind   string
		counts [2]int
		fields map[string][2][]string // name -> added, removed
	}
	want := map[key]change{}
	var unchanged int
	for _, k := range slices.Collect(maps.Keys(union(wantOld, wantNew))) {
		o, n := wantOld[k], wantNew[k]
		ch := change{fields: map[string][2][]string{}}
		switch {
		case o == nil:
			ch.kind = ChangeAdded
		case n == nil:
			ch.kind = ChangeRemoved
		default:
			ch.kind = ChangeAltered
		}
		var of, nf map[string][]string
		if o != nil {
			ch.counts[0], of = o.Count, o.Fields
		}
		if n != nil {
			ch.counts[1], nf = n.Count, n.Fields
		}
		for name := range union(of, nf) {
			add, rem := setMinus(nf[name], of[name]), setMinus(of[name], nf[name])
			if len(add)+len(rem) > 0 {
				ch.fields[name] = [2][]string{add, rem}
			}
		}
		if ch.kind == ChangeAltered && len(ch.fields) == 0 && ch.counts[0] == ch.counts[1] && o.First == n.First && o.Last == n.Last {
			unchanged++
			continue
		}
		want[k] = ch
	}
	kinds := map[string]int{}
	for _, ch := range want {
		kinds[ch.kind]++
	}
	for _, k := range []string{ChangeAdded, ChangeRemoved, ChangeAltered} {
		if kinds[k] == 0 {
			t.Errorf("the tuning makes no %s alert on this stream: the test proves little (%v)", k, kinds)
		}
	}

	got := map[key]Change{}
	for _, ch := range c.Changes {
		got[key{ch.Host, ch.Time}] = ch
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s@%d: %s change missing", k.host, k.sec, w.kind)
			continue
		}
		if g.Change != w.kind || g.EventCount != w.counts {
			t.Errorf("%s@%d: %s with events %v, want %s with %v", k.host, k.sec, g.Change, g.EventCount, w.kind, w.counts)
		}
		gf := map[string][2][]string{}
		for _, f := range g.Fields {
			gf[f.Name] = [2][]string{sortedCopy(f.Added), sortedCopy(f.Removed)}
		}
		if fmt.Sprint(gf) != fmt.Sprint(w.fields) {
			t.Errorf("%s@%d: fields\n got  %v\n want %v", k.host, k.sec, gf, w.fields)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s@%d: unexpected %s change", k.host, k.sec, g.Change)
		}
	}
	if len(c.Totals) != 1 {
		t.Fatalf("totals for %d rules, want 1", len(c.Totals))
	}
	tot := c.Totals[0]
	if tot.Added != kinds[ChangeAdded] || tot.Removed != kinds[ChangeRemoved] || tot.Altered != kinds[ChangeAltered] ||
		tot.Unchanged != unchanged || tot.Old != len(wantOld) || tot.New != len(wantNew) {
		t.Errorf("totals %+v, want %v, %d unchanged, %d before, %d after", tot, kinds, unchanged, len(wantOld), len(wantNew))
	}
	t.Logf("%d buckets before, %d after: %v, %d unchanged", len(wantOld), len(wantNew), kinds, unchanged)
}

func union[K comparable, V any](a, b map[K]V) map[K]bool {
	out := map[K]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// setMinus returns the sorted values of a not in b.
func setMinus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}
