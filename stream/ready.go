package stream

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/msiguard/msiguard/sink"
)

// ErrNotReady is wrapped by every error Ready returns.
var ErrNotReady = errors.New("not ready")

// readiness tracks what Ready reports. The generation hooks (begin,
// restored, end) are called by the generation function; Ready by anyone.
type readiness struct {
	mu sync.Mutex
	// guarded by mu: the current generation (active is false between
	// generations and after the generation's end was signalled), its
	// assigned partition counts, and whether stage B has restored the
	// published alerts and started.
	active         bool
	gen            int32
	inParts, mPart int
	restored       bool
	// guarded by mu: per producer (alerts, records), what it had
	// acknowledged, and its failed-call count, when Ready last saw the
	// acknowledged count move.
	acked, errsAtAck [2]int64
}

func (r *readiness) begin(gen int32, inParts, mParts int) {
	r.mu.Lock()
	r.active, r.gen, r.inParts, r.mPart = true, gen, inParts, mParts
	r.restored = mParts == 0
	r.mu.Unlock()
}

func (r *readiness) restoredDone(gen int32) {
	r.mu.Lock()
	if r.gen == gen {
		r.restored = true
	}
	r.mu.Unlock()
}

// end marks generation gen as ended; a later generation is left alone.
func (r *readiness) end(gen int32) {
	r.mu.Lock()
	if r.gen == gen {
		r.active = false
	}
	r.mu.Unlock()
}

// Ready returns nil when the pipeline is doing its job: it has joined the
// consumer group, has partitions assigned in the current generation, has
// restored the published alerts for its matches partitions, and every
// topic it writes accepts writes (neither producer has failed, and no
// produce call has failed since the producer's last acknowledged record).
// Otherwise it returns an error wrapping ErrNotReady that says what is
// missing. It is meant for a readiness probe (GET /readyz) and is safe to
// call at any time, from any goroutine.
//
// A member that has joined but was assigned no partition (more members
// than partitions) is not ready: it does no work until a rebalance.
func (p *Pipeline) Ready() error {
	p.prodMu.Lock()
	prods := [2]*sink.Producer{p.alerts, p.records}
	p.prodMu.Unlock()
	names := [2]string{"alerts topic " + strings.Join(p.cfg.alertsTopics(), ", "), "matches or dead-letter topic (" + p.cfg.MatchesTopic + ", " + p.cfg.DLQTopic + ")"}
	r := &p.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case prods[0] == nil || prods[1] == nil:
		return fmt.Errorf("%w: starting: checking the brokers and topics", ErrNotReady)
	case prods[0].Err() != nil:
		return fmt.Errorf("%w: %s: %v", ErrNotReady, names[0], prods[0].Err())
	case prods[1].Err() != nil:
		return fmt.Errorf("%w: %s: %v", ErrNotReady, names[1], prods[1].Err())
	case !r.active:
		return fmt.Errorf("%w: not in a consumer group generation (joining group %q, rebalancing, or stopping)", ErrNotReady, p.cfg.Group)
	case r.inParts+r.mPart == 0:
		return fmt.Errorf("%w: generation %d assigned this member no partition (more members than partitions?)", ErrNotReady, r.gen)
	case !r.restored:
		return fmt.Errorf("%w: generation %d: restoring published alerts from %s", ErrNotReady, r.gen, strings.Join(p.cfg.alertsTopics(), ", "))
	}
	for i, prod := range prods {
		st := prod.Stats()
		if st.Acked != r.acked[i] {
			r.acked[i], r.errsAtAck[i] = st.Acked, st.Errors
		}
		if n := st.Errors - r.errsAtAck[i]; n > 0 {
			return fmt.Errorf("%w: %s: %d produce calls failed since the last acknowledged record (retrying)", ErrNotReady, names[i], n)
		}
	}
	return nil
}
