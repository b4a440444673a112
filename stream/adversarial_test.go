package stream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// attackRecord renders a Sysmon process creation of msiexec by cmd.exe on
// host at t with command line cmd, in the flat shape, with a short message
// so that the record holds cmd once.
func attackRecord(host string, t time.Time, pid int, cmd string) []byte {
	return []byte(sysmongen.Event{
		EventID:  1,
		Computer: host,
		UtcTime:  t.UTC().Format(sysmongen.UtcTimeLayout),
		Message:  "Process Create:",
		Data: map[string]any{
			"Image": `C:\Windows\System32\msiexec.exe`, "CommandLine": cmd,
			"ParentImage": `C:\Windows\System32\cmd.exe`, "ProcessId": strconv.Itoa(pid),
			"User": `CORP\mallory`, "ProcessGuid": fmt.Sprintf("{81056205-0000-64dc-%04x-000000000800}", pid),
		},
	}.Build("flat"))
}

// produceRaw writes values (nil for a tombstone) to the input topic, round
// robin, allowing records of any size the topic takes.
func (e *env) produceRaw(values [][]byte) {
	e.t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(e.c.Addrs()...), Topic: e.topic, Balancer: &kafka.RoundRobin{},
		BatchTimeout: time.Millisecond, BatchBytes: 64 << 20, RequiredAcks: kafka.RequireAll, Transport: e.c.Transport(e.t),
	}
	defer w.Close()
	for _, v := range values {
		if err := w.WriteMessages(context.Background(), kafka.Message{Value: v}); err != nil {
			e.t.Fatalf("producing %d bytes to the input: %v", len(v), err)
		}
	}
}

// TestAdversarialInput is issue 14's suite, on kfake and on a real broker
// whose alerts, matches and dead-letter topics keep Kafka's default
// max.message.bytes (the input topic takes 16 MiB records). Among a mixed
// stream of 8,000 records on 4 partitions it places what an attacker on a
// monitored host can write: one host-second of 60 launches with 30 KB
// command lines (a 2 MB alert uncapped), a 10 MB matching record, a 5 MiB
// malformed record mentioning msiexec, JSON nested 100,000 deep, invalid
// UTF-8, NUL bytes, empty and null values, and tombstones. Every other
// alert must be exactly as the plain grouping of streamtest.Expect says,
// the giant bucket a truncated alert within the caps, the bad records dead
// letters that keep a bounded prefix with the full length and hash, and
// the member still ready.
func TestAdversarialInput(t *testing.T) {
	e := newEnvWith(t, 4, map[string]string{"max.message.bytes": strconv.Itoa(16 << 20)})
	gen := streamtest.New(streamtest.Options{Seed: 14, Hosts: 40})
	recs := gen.Records(8000)
	values := make([][]byte, 0, len(recs)+100)
	for _, r := range recs {
		values = append(values, r.Value)
	}
	at := time.Date(2025, 3, 6, 10, 0, 5, 0, time.UTC) // inside the stream's span
	for k := range 60 {
		cmd := fmt.Sprintf(`msiexec /i "\\share\%02d.msi" %s`, k, strings.Repeat("A", 30_000))
		values = append(values, attackRecord("BIG-HOST", at.Add(time.Duration(k)*time.Millisecond), 4000+k, cmd))
	}
	huge := attackRecord("HUGE-HOST", at, 5000, "msiexec /i x.msi "+strings.Repeat("B", 10<<20))
	malformed := []byte(`{"EventID":1,"CommandLine":"msiexec /i ` + strings.Repeat("C", 5<<20))
	deep := []byte(strings.Repeat(`{"a":`, 100_000) + `"msiexec"` + strings.Repeat("}", 100_000))
	values = append(values,
		huge, malformed, deep,
		attackRecord("UTF8-HOST", at, 6000, "msiexec /i \xff\xfe.msi"),
		attackRecord("NUL-HOST", at, 6001, "msiexec /i a\x00b.msi"),
		attackRecord("EMPTY-HOST", at, 6002, ""),
		[]byte(`{"EventID":1,"Computer":null,"CommandLine":"msiexec","ParentImage":null}`),
		[]byte{}, nil, nil,
	)
	e.produceRaw(values)

	m := e.start(e.config())
	placed := e.placed()
	want := e.expected(placed)
	bigID := window.AlertID(ruletest.Seed(t).Rule.ID, "BIG-HOST", at.Unix())
	bigWant := want[bigID]
	if bigWant == nil || bigWant.EventCount != 60 {
		t.Fatalf("the plain grouping has no 60-event bucket for BIG-HOST: %+v", bigWant)
	}
	delete(want, bigID)
	pub := e.waitAlertsBy(want, 90*time.Second, func(pub map[string][]streamtest.Published) []string {
		got := make(map[string][]streamtest.Published, len(pub))
		for id, p := range pub {
			if id != bigID {
				got[id] = p
			}
		}
		problems := streamtest.Check(got, want)
		if len(pub[bigID]) == 0 {
			problems = append(problems, "no alert for the giant bucket yet")
		}
		return problems
	})
	big := pub[bigID]
	last := big[len(big)-1]
	if n := len(last.Value); n > window.DefaultMaxAlertBytes {
		t.Errorf("the giant bucket's alert is %d bytes, over the %d cap", n, window.DefaultMaxAlertBytes)
	}
	checkTruncated(t, last.Alert, bigWant)

	dead := e.waitDeadLetters(3, 30*time.Second)
	var sawMalformed, sawDeep bool
	for _, d := range dead {
		orig := header(d, HeaderOriginalBytes)
		switch orig {
		case strconv.Itoa(len(malformed)):
			sawMalformed = true
			if r := header(d, HeaderReason); r != "malformed" {
				t.Errorf("dead letter of the unterminated 5 MiB record has reason %q, the README's table says malformed", r)
			}
			sum := sha256.Sum256(malformed)
			if len(d.Value) != DefaultDeadLetterBytes || !strings.HasPrefix(string(malformed), string(d.Value)) ||
				header(d, HeaderOriginalSHA256) != hex.EncodeToString(sum[:]) || header(d, HeaderTruncated) != "true" {
				t.Errorf("dead letter of the 5 MiB record: %d bytes kept, sha %s, truncated %s", len(d.Value), header(d, HeaderOriginalSHA256), header(d, HeaderTruncated))
			}
		case strconv.Itoa(len(deep)):
			sawDeep = true
			if r := header(d, HeaderReason); r != "too_deep" {
				t.Errorf("dead letter of the 100,000-deep record has reason %q, the README's table says too_deep", r)
			}
		}
	}
	if !sawMalformed || !sawDeep {
		t.Errorf("dead letters %d: 5 MiB record %v, deep nesting %v", len(dead), sawMalformed, sawDeep)
	}
	if err := m.p.Ready(); err != nil {
		t.Errorf("after the adversarial input the member is not ready: %v", err)
	}
	if st := m.p.Stats(); st.TruncatedValues < 1 || st.TruncatedAlerts < 1 {
		t.Errorf("stats %+v: want the huge command line cut and the giant alert truncated", st)
	}
	m.stop(t, 30*time.Second)
}

// checkTruncated checks a capped alert against the plain grouping of its
// events: counts and times exact, every kept value a true one, kept plus
// omitted the true distinct count per field.
func checkTruncated(t *testing.T, got, want *window.Alert) {
	t.Helper()
	if got.EventCount != want.EventCount || got.FirstSeen != want.FirstSeen || got.LastSeen != want.LastSeen || !got.Truncated() {
		t.Errorf("capped alert: %d events %d..%d truncated %v, want %d events %d..%d", got.EventCount, got.FirstSeen, got.LastSeen, got.Truncated(), want.EventCount, want.FirstSeen, want.LastSeen)
	}
	for _, f := range want.Fields {
		var g window.Field
		for _, x := range got.Fields {
			if x.Name == f.Name {
				g = x
			}
		}
		for _, v := range g.Values {
			if !slices.Contains(f.Values, v) {
				t.Errorf("capped alert: %s keeps %.40q, not a value of its events", f.Name, v)
			}
		}
		if len(g.Values)+g.Omitted != len(f.Values) {
			t.Errorf("capped alert: %s keeps %d and omits %d of %d values", f.Name, len(g.Values), g.Omitted, len(f.Values))
		}
	}
}

// waitDeadLetters polls the dead-letter topic until it holds at least n
// records and returns them.
func (e *env) waitDeadLetters(n int, timeout time.Duration) []kafka.Message {
	e.t.Helper()
	var msgs []kafka.Message
	kafkatest.WaitFor(e.t, timeout, func() error {
		var err error
		msgs, err = streamtest.ReadTopic(context.Background(), e.c.Dialer(), e.c.Addrs()[0], e.dlq)
		if err != nil {
			return err
		}
		if len(msgs) < n {
			return fmt.Errorf("%d dead letters, want at least %d", len(msgs), n)
		}
		return nil
	})
	return msgs
}

// A producer of any of the three topics that fails for good (here: the
// broker refuses it the topic's ACL) ends Run within 5 s of the refusal,
// with an error naming the topic, and /readyz says why at once.
func TestFatalProducerEndsRun(t *testing.T) {
	for _, target := range []string{"alerts", "matches", "dlq"} {
		t.Run(target, func(t *testing.T) {
			e := newEnv(t, 2, kafkatest.WithFaults())
			cfg := e.config()
			topic := map[string]string{"alerts": e.alerts, "matches": e.alerts + MatchesSuffix, "dlq": e.dlq}[target]
			refused := make(chan time.Time, 1)
			fake := e.c.Fake()
			fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
				fake.KeepControl()
				pr := req.(*kmsg.ProduceRequest)
				for _, tp := range pr.Topics {
					if tp.Topic == topic {
						select {
						case refused <- time.Now():
						default:
						}
						return kafkatest.RefuseProduce(pr, kerr.TopicAuthorizationFailed.Code), nil, true
					}
				}
				return nil, nil, false
			})
			at := time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
			if target == "dlq" {
				e.produceRaw([][]byte{[]byte(`{"EventID":1,"CommandLine":"msiexec /i broken`)})
			} else {
				e.produceRaw([][]byte{attackRecord("WKS-1", at, 100, "msiexec /i a.msi")})
			}
			m := e.start(cfg)
			var first time.Time
			select {
			case first = <-refused:
			case <-time.After(30 * time.Second):
				t.Fatalf("nothing was produced to %s within 30 s", topic)
			}
			select {
			case err := <-m.done:
				m.done <- err
				if took := time.Since(first); took > 5*time.Second {
					t.Errorf("Run returned %v after the first refusal, want at most 5 s", took)
				}
				if err == nil || !strings.Contains(err.Error(), topic) {
					t.Errorf("Run returned %v, want an error naming topic %s", err, topic)
				}
				if rerr := m.p.Ready(); rerr == nil || !strings.Contains(rerr.Error(), "Authorization") {
					t.Errorf("Ready after the failure = %v", rerr)
				}
			case <-time.After(time.Until(first.Add(10 * time.Second))):
				t.Fatalf("Run still running 10 s after %s refused it for good", topic)
			}
		})
	}
}

// A member whose matches topic refuses every write (a transient error,
// retried for ever) keeps reading its input but can commit nothing: the
// stall shows in /readyz, which names the topic, and in the committed lag,
// while the fetch lag says the input was read.
func TestStalledProducerIsVisible(t *testing.T) {
	e := newEnv(t, 2, kafkatest.WithFaults())
	var on atomic.Bool
	on.Store(true)
	var refusals atomic.Int64
	refuseProduce(e, e.alerts+MatchesSuffix, &on, &refusals)
	at := time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
	var values [][]byte
	for k := range 20 {
		values = append(values, attackRecord(fmt.Sprintf("WKS-%d", k), at, 100+k, "msiexec /i a.msi"))
	}
	e.produceRaw(values)
	m := e.start(e.config())
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		err := m.p.Ready()
		if err == nil || !strings.Contains(err.Error(), e.alerts+MatchesSuffix) {
			return fmt.Errorf("Ready = %v, want it to name the matches topic", err)
		}
		st := m.p.Stats()
		read, behind := int64(0), int64(0)
		for _, p := range st.Partitions {
			if p.Topic == e.topic && p.Lag == 0 {
				read++
				behind += max(p.CommittedLag, 0)
			}
		}
		if read != 2 || behind != 20 {
			return fmt.Errorf("input partitions read %d of 2, committed lag %d of 20: %+v", read, behind, st.Partitions)
		}
		return nil
	})
	on.Store(false)
	e.waitCommitted(30 * time.Second)
	kafkatest.WaitFor(t, 10*time.Second, m.p.Ready)
}

// A stale record that lands on the alerts topic after the owner's complete
// one (what a member that stalled past its session writes in the
// milliseconds no fence covers) is followed by the complete one again
// within seconds: the owner reads the topic back and heals it.
func TestHealStaleRecord(t *testing.T) {
	e := newEnv(t, 2)
	at := time.Now().Truncate(time.Second).Add(-time.Second)
	var values [][]byte
	for k := range 2 {
		values = append(values, attackRecord("WKS-1", at.Add(time.Duration(k)*time.Millisecond), 100+k, fmt.Sprintf("msiexec /i %d.msi", k)))
	}
	e.produceRaw(values)
	m := e.start(e.config())
	want := e.expected(e.placed())
	pub := e.waitAlerts(want, 60*time.Second)
	var id string
	for k := range want {
		id = k
	}
	complete := pub[id][len(pub[id])-1]
	stale := complete.Alert.Clone()
	stale.EventCount, stale.Sources = 1, stale.Sources[:1]
	for i := range stale.Fields {
		stale.Fields[i].Values = stale.Fields[i].Values[:1]
	}
	w := &kafka.Writer{Addr: kafka.TCP(e.c.Addrs()...), Topic: e.alerts, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, Transport: e.c.Transport(t)}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte(id), Value: stale.AppendJSON(nil),
		Headers: []kafka.Header{{Key: HeaderRevision, Value: []byte("1")}, {Key: HeaderRuleID, Value: []byte(stale.RuleID)}}}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	kafkatest.WaitFor(t, 10*time.Second, func() error {
		pub, err := streamtest.ReadAlerts(context.Background(), e.c.Dialer(), e.c.Addrs()[0], e.alerts)
		if err != nil {
			return err
		}
		recs := pub[id]
		if last := recs[len(recs)-1]; !bytes.Equal(last.Value, complete.Value) {
			return fmt.Errorf("the latest of %d records has %d events, want the complete one again", len(recs), last.Alert.EventCount)
		}
		return nil
	})
	t.Logf("healed %v after the stale record was written", time.Since(written).Round(time.Millisecond))
	if n := m.p.Stats().HealedAlerts; n != 1 {
		t.Errorf("HealedAlerts = %d, want 1", n)
	}
}

// A shutdown whose final commit fails is not a clean drain: Run says so
// (ErrDrainIncomplete) instead of reporting success after a log line.
func TestFailedFinalCommitIsNotClean(t *testing.T) {
	e := newEnv(t, 2, kafkatest.WithFaults())
	var refuse atomic.Bool
	fake := e.c.Fake()
	fake.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		oc := req.(*kmsg.OffsetCommitRequest)
		resp := oc.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range oc.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	e.produceRaw([][]byte{attackRecord("WKS-1", time.Now(), 100, "msiexec /i a.msi")})
	m := e.start(e.config())
	want := e.expected(e.placed())
	e.waitAlerts(want, 60*time.Second)
	e.produceRaw([][]byte{attackRecord("WKS-2", time.Now(), 101, "msiexec /i b.msi")})
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		if n := m.p.Stats().Matches; n < 2 {
			return fmt.Errorf("%d matches", n)
		}
		return nil
	})
	refuse.Store(true)
	m.cancel()
	select {
	case err := <-m.done:
		m.done <- err
		if !errors.Is(err, ErrDrainIncomplete) {
			t.Fatalf("Run = %v after a shutdown whose final commit failed, want ErrDrainIncomplete", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("Run did not return")
	}
}
