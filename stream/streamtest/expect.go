package streamtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/window"
)

// Placed is a record and where it was written.
type Placed struct {
	Value     []byte
	Topic     string
	Partition int32
	Offset    int64
}

// Expect returns, by alert_id, the alerts the detector's rules must end up
// publishing for the records: for each (rule, host, bucket) of matching
// records the union of their field values, their count, first and last
// event time, and their sources. Revision is 0 (not predicted); Sources
// are sorted. maxSources is the window's MaxSources (0 for the default).
func Expect(det *detector.Detector, recs []Placed, maxSources int) map[string]*window.Alert {
	if maxSources == 0 {
		maxSources = window.DefaultMaxSources
	}
	rs := det.Rules()
	type bucket struct {
		a    *window.Alert
		rule int
		sets []map[string]bool
	}
	buckets := map[string]*bucket{}
	for _, r := range recs {
		ms, _, err := det.EvaluateAll(r.Value, nil)
		if err != nil {
			continue
		}
		for _, m := range ms {
			rule := rs[m.Rule]
			span := int64(rule.Program.Group().Span / time.Second)
			sec := m.Time / 1e9
			if m.Time%1e9 < 0 {
				sec--
			}
			sec -= ((sec % span) + span) % span
			id := window.AlertID(rule.Rule.ID, m.Host, sec)
			b := buckets[id]
			if b == nil {
				b = &bucket{a: &window.Alert{
					AlertID: id, RuleID: rule.Rule.ID, RuleTitle: rule.Rule.Title, Techniques: rule.Rule.TechniqueIDs,
					Time: sec, Host: m.Host, FirstSeen: m.Time, LastSeen: m.Time,
				}, rule: m.Rule, sets: make([]map[string]bool, len(rule.Program.Outputs()))}
				for i := range b.sets {
					b.sets[i] = map[string]bool{}
				}
				buckets[id] = b
			}
			a := b.a
			a.EventCount++
			a.FirstSeen = min(a.FirstSeen, m.Time)
			a.LastSeen = max(a.LastSeen, m.Time)
			for i, v := range m.Values {
				if v != "" {
					b.sets[i][v] = true
				}
			}
			a.Sources = append(a.Sources, window.Source{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset})
		}
	}
	out := make(map[string]*window.Alert, len(buckets))
	for id, b := range buckets {
		a := b.a
		outs := rs[b.rule].Program.Outputs()
		for i, set := range b.sets {
			if len(set) == 0 {
				continue
			}
			vals := make([]string, 0, len(set))
			for v := range set {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			a.Fields = append(a.Fields, window.Field{Name: outs[i], Values: vals})
		}
		slices.SortFunc(a.Fields, func(x, y window.Field) int { return strings.Compare(x.Name, y.Name) })
		sortSources(a.Sources)
		a.SourcesOmitted = max(a.EventCount-maxSources, 0)
		out[id] = a
	}
	return out
}

func sortSources(s []window.Source) {
	slices.SortFunc(s, func(x, y window.Source) int {
		if x.Topic != y.Topic {
			if x.Topic < y.Topic {
				return -1
			}
			return 1
		}
		if x.Partition != y.Partition {
			return int(x.Partition - y.Partition)
		}
		return int(x.Offset - y.Offset)
	})
}

// Diff describes how got differs from want, ignoring the revision and the
// order of sources, or returns "" when they agree. When sources were
// omitted, got's must be a subset of want's.
func Diff(got, want *window.Alert) string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if got.AlertID != want.AlertID || got.Host != want.Host || got.Time != want.Time {
		add("bucket: got %s %s@%d, want %s %s@%d", got.AlertID, got.Host, got.Time, want.AlertID, want.Host, want.Time)
	}
	if got.RuleID != want.RuleID || got.Late != want.Late {
		add("rule/late: got %s/%v, want %s/%v", got.RuleID, got.Late, want.RuleID, want.Late)
	}
	if got.EventCount != want.EventCount {
		add("event_count: got %d, want %d", got.EventCount, want.EventCount)
	}
	if got.FirstSeen != want.FirstSeen || got.LastSeen != want.LastSeen {
		add("first/last: got %d/%d, want %d/%d", got.FirstSeen, got.LastSeen, want.FirstSeen, want.LastSeen)
	}
	if !slices.EqualFunc(got.Fields, want.Fields, func(x, y window.Field) bool {
		return x.Name == y.Name && slices.Equal(x.Values, y.Values)
	}) {
		add("fields: got %v, want %v", got.Fields, want.Fields)
	}
	gs := slices.Clone(got.Sources)
	sortSources(gs)
	if want.SourcesOmitted == 0 {
		if !slices.Equal(gs, want.Sources) {
			add("sources: got %v, want %v", gs, want.Sources)
		}
	} else {
		for _, s := range gs {
			if _, ok := slices.BinarySearchFunc(want.Sources, s, func(x, y window.Source) int {
				if x == y {
					return 0
				}
				if x.Topic < y.Topic || x.Topic == y.Topic && (x.Partition < y.Partition || x.Partition == y.Partition && x.Offset < y.Offset) {
					return -1
				}
				return 1
			}); !ok {
				add("source %v not among the bucket's records", s)
			}
		}
	}
	if got.SourcesOmitted != want.SourcesOmitted {
		add("sources_omitted: got %d, want %d", got.SourcesOmitted, want.SourcesOmitted)
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

// Published is one alert record read back from the alerts topic.
type Published struct {
	Alert    *window.Alert
	Value    []byte
	Revision string // the msiguard-revision header
	RuleID   string // the msiguard-rule-id header
	// RuleVersion is the msiguard-rule-version header.
	RuleVersion string
	Partition   int
	Offset      int64
}

// ReadTopic reads every record of every partition of topic, up to the end
// offsets at the time of the call, through dialer (kafka.DefaultDialer when
// nil), with msiguard's own fetcher (kafkaio.Fetcher).
func ReadTopic(ctx context.Context, dialer *kafka.Dialer, broker, topic string) ([]kafka.Message, error) {
	if dialer == nil {
		dialer = kafka.DefaultDialer
	}
	conn, err := dialer.DialContext(ctx, "tcp", broker)
	if err != nil {
		return nil, err
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, err
	}
	var out []kafka.Message
	for _, p := range parts {
		lc, err := dialer.DialLeader(ctx, "tcp", broker, topic, p.ID)
		if err != nil {
			return nil, err
		}
		first, last, err := lc.ReadOffsets()
		lc.Close()
		if err != nil {
			return nil, err
		}
		f := kafkaio.NewFetcher(kafkaio.FetcherConfig{Dialer: dialer, Brokers: []string{broker}, Topic: topic, Partition: p.ID,
			Offset: first, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond, Messages: true, Retries: 5, StrictRange: true})
		for f.Offset() < last {
			err := f.Fetch(ctx, func(r kafkaio.Record) error {
				if r.Offset >= last {
					return errEnd
				}
				out = append(out, kafka.Message{Topic: topic, Partition: p.ID, Offset: r.Offset, Time: r.Time, Key: r.Key, Value: r.Value, Headers: r.Headers})
				return nil
			})
			if errors.Is(err, errEnd) {
				break
			}
			if err != nil {
				f.Close()
				return nil, err
			}
		}
		f.Close()
	}
	return out, nil
}

// errEnd stops a Fetch at the end offset.
var errEnd = errors.New("end offset reached")

// ReadAlerts reads the alerts topic and returns its records by alert_id,
// in log order.
func ReadAlerts(ctx context.Context, dialer *kafka.Dialer, broker, topic string) (map[string][]Published, error) {
	msgs, err := ReadTopic(ctx, dialer, broker, topic)
	if err != nil {
		return nil, err
	}
	out := map[string][]Published{}
	for _, m := range msgs {
		a := new(window.Alert)
		if err := a.UnmarshalJSON(m.Value); err != nil {
			return nil, fmt.Errorf("partition %d offset %d: %w", m.Partition, m.Offset, err)
		}
		p := Published{Alert: a, Value: m.Value, Partition: m.Partition, Offset: m.Offset}
		for _, h := range m.Headers {
			switch h.Key {
			case "msiguard-revision":
				p.Revision = string(h.Value)
			case "msiguard-rule-id":
				p.RuleID = string(h.Value)
			case "msiguard-rule-version":
				p.RuleVersion = string(h.Value)
			}
		}
		if string(m.Key) != a.AlertID {
			return nil, fmt.Errorf("partition %d offset %d: key %q is not the alert_id %s", m.Partition, m.Offset, m.Key, a.AlertID)
		}
		out[a.AlertID] = append(out[a.AlertID], p)
	}
	return out, nil
}

// Check compares the published alerts with the expected ones: every
// expected alert is present; for each alert_id the last record has the
// highest revision and equals the expected alert; records that repeat a
// revision are byte-identical copies; no unexpected alert_id appears; the
// headers carry the rule id and the revision. It returns the problems found.
func Check(pub map[string][]Published, want map[string]*window.Alert) []string {
	var problems []string
	for id, w := range want {
		recs := pub[id]
		if len(recs) == 0 {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) missing", id, w.Host, w.Time))
			continue
		}
		problems = append(problems, checkRecords(id, recs)...)
		last := recs[len(recs)-1]
		if d := Diff(last.Alert, w); d != "" {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) latest revision %d differs: %s", id, w.Host, w.Time, last.Alert.Revision, d))
		}
	}
	for id, recs := range pub {
		if _, ok := want[id]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected alert %s (%s@%d)", id, recs[0].Alert.Host, recs[0].Alert.Time))
		}
	}
	slices.Sort(problems)
	return problems
}

// checkRecords checks the records of one alert_id: headers that match the
// value, the highest revision last, and repeated revisions byte-identical.
func checkRecords(id string, recs []Published) []string {
	var problems []string
	last := recs[len(recs)-1]
	byRev := map[int][]byte{}
	for _, r := range recs {
		if r.Revision != strconv.Itoa(r.Alert.Revision) || r.RuleID != r.Alert.RuleID {
			problems = append(problems, fmt.Sprintf("alert %s: headers rule=%q revision=%q, value has %s/%d", id, r.RuleID, r.Revision, r.Alert.RuleID, r.Alert.Revision))
		}
		if r.Alert.Revision > last.Alert.Revision {
			problems = append(problems, fmt.Sprintf("alert %s: revision %d precedes the last record's revision %d", id, r.Alert.Revision, last.Alert.Revision))
		}
		if prev, ok := byRev[r.Alert.Revision]; ok && !bytes.Equal(prev, r.Value) {
			problems = append(problems, fmt.Sprintf("alert %s: revision %d published twice with different content:\n  %s\n  %s", id, r.Alert.Revision, prev, r.Value))
		}
		byRev[r.Alert.Revision] = r.Value
	}
	return problems
}

// CheckMerged is Check for runs in which a bucket may be forgotten before
// all its events have arrived (a tiny RetainBuckets): its later events then
// make late alerts (same host and _time, "late": true, alert_ids of their
// own), which is the contract, not a loss. For every expected alert, the
// latest revisions of its on-time alert and of its late alerts together
// must hold exactly its events: summed event counts, the earliest and
// latest times, the union of field values and of sources. Records are
// checked per alert_id as in Check, and an alert of no expected bucket is
// a problem. It also returns how many late alerts were published.
func CheckMerged(pub map[string][]Published, want map[string]*window.Alert) (problems []string, late int) {
	type bucket struct {
		rule, host string
		sec        int64
	}
	groups := map[bucket][]*window.Alert{}
	for id, recs := range pub {
		problems = append(problems, checkRecords(id, recs)...)
		a := recs[len(recs)-1].Alert
		if a.Late {
			late++
		}
		k := bucket{a.RuleID, a.Host, a.Time}
		groups[k] = append(groups[k], a)
	}
	for id, w := range want {
		k := bucket{w.RuleID, w.Host, w.Time}
		var merged *window.Alert
		for _, a := range groups[k] {
			if !a.Late && a.AlertID == id {
				merged = a.Clone()
			}
		}
		if merged == nil {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) missing", id, w.Host, w.Time))
			delete(groups, k)
			continue
		}
		for _, a := range groups[k] {
			if !a.Late {
				if a.AlertID != id {
					problems = append(problems, fmt.Sprintf("alert %s (%s@%d): a second on-time alert %s", id, w.Host, w.Time, a.AlertID))
				}
				continue
			}
			merged.EventCount += a.EventCount
			merged.FirstSeen = min(merged.FirstSeen, a.FirstSeen)
			merged.LastSeen = max(merged.LastSeen, a.LastSeen)
			merged.Sources = append(merged.Sources, a.Sources...)
			merged.SourcesOmitted += a.SourcesOmitted
			for _, f := range a.Fields {
				i, ok := slices.BinarySearchFunc(merged.Fields, f.Name, func(x window.Field, n string) int { return strings.Compare(x.Name, n) })
				if !ok {
					merged.Fields = slices.Insert(merged.Fields, i, window.Field{Name: f.Name})
				}
				vals := append(merged.Fields[i].Values, f.Values...)
				slices.Sort(vals)
				merged.Fields[i].Values = slices.Compact(vals)
			}
		}
		if d := Diff(merged, w); d != "" {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) with its late alerts differs: %s", id, w.Host, w.Time, d))
		}
		delete(groups, k)
	}
	for k, as := range groups {
		problems = append(problems, fmt.Sprintf("unexpected alert %s (%s@%d)", as[0].AlertID, k.host, k.sec))
	}
	slices.Sort(problems)
	return problems, late
}
