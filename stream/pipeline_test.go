package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"

	"github.com/msiguard/msiguard/stream/streamtest"
)

// TestEndToEnd runs one member over a mixed-shape stream spread over four
// partitions without keys and checks that the alerts topic ends up holding
// exactly the expected alerts (one alert_id per host and second, the latest
// revision complete), that every record the detector could not evaluate or
// group is in the dead-letter topic with its headers, and that after
// SIGTERM-like cancellation Run returns nil having committed everything.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t, 4)
	g := streamtest.New(streamtest.Options{Seed: 1, Hosts: 8})
	recs := g.Records(3000)
	e.produce(recs)
	placed := e.placed()
	want := e.expected(placed)
	if len(want) < 20 {
		t.Fatalf("generator produced only %d expected alerts", len(want))
	}
	m := e.start(e.config())
	e.waitAlerts(want, 60*time.Second)
	e.checkDLQ(placed)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	st := m.p.Stats()
	if st.RecordsConsumed != int64(len(recs)) {
		t.Errorf("RecordsConsumed = %d, want %d", st.RecordsConsumed, len(recs))
	}
	t.Logf("stats: %+v", st)
}

// checkDLQ verifies that the dead-letter topic holds, for each record the
// detector rejects, the original bytes with reason and source headers.
func (e *env) checkDLQ(placed []streamtest.Placed) {
	e.t.Helper()
	d := detector.Seed()
	want := map[string]string{} // "p/off" -> reason
	for _, r := range placed {
		if _, _, err := d.Evaluate(r.Value); err != nil {
			var de *detector.Error
			errors.As(err, &de)
			want[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = string(de.Reason)
		}
	}
	if len(want) == 0 {
		e.t.Fatal("no dead letters in the test data")
	}
	byPos := map[string][]byte{}
	for _, r := range placed {
		byPos[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = r.Value
	}
	kafkatest.WaitFor(e.t, 30*time.Second, func() error {
		msgs, err := streamtest.ReadTopic(context.Background(), e.c.Dialer(), e.c.Addrs()[0], e.dlq)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, m := range msgs {
			h := map[string]string{}
			for _, x := range m.Headers {
				h[x.Key] = string(x.Value)
			}
			if h[HeaderSourceTopic] != e.topic {
				return fmt.Errorf("dead letter with source topic %q", h[HeaderSourceTopic])
			}
			pos := h[HeaderSourcePartition] + "/" + h[HeaderSourceOffset]
			if !bytes.Equal(m.Value, byPos[pos]) {
				return fmt.Errorf("dead letter %s does not carry the original bytes", pos)
			}
			if h[HeaderError] == "" {
				return fmt.Errorf("dead letter %s has no %s header", pos, HeaderError)
			}
			got[pos] = h[HeaderReason]
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("dead letters (position: reason) = %v, want %v", got, want)
		}
		return nil
	})
}
