package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrZombie is wrapped by a lease's error once this member may no longer
// act for its generation: the coordinator said so, or it has not confirmed
// the membership for a whole session timeout (a process frozen, a long GC
// pause, a network partition), after which the coordinator may have given
// the partitions to another member.
var ErrZombie = errors.New("no longer a member of the generation")

// lease is this member's own evidence that it still belongs to a consumer
// group generation: it sends heartbeats of its own to the coordinator
// (besides kafka-go's, which it cannot see) and remembers when one was last
// accepted. The producers check it before every write (sink.Fence), and the
// drain checks it before flushing: a member whose lease lapsed writes
// nothing more for that generation, so that it cannot put a stale alert
// after the one the partitions' new owner published.
type lease struct {
	session time.Duration

	mu sync.Mutex
	// guarded by mu: when the last heartbeat the coordinator accepted (or
	// answered "rebalance in progress", which still counts this member)
	// was sent, and why the lease is lost for good, if it is.
	renewed time.Time
	lost    error
}

func newLease(session time.Duration, start time.Time) *lease {
	return &lease{session: session, renewed: start}
}

// Valid returns nil while the lease holds, else an error wrapping
// ErrZombie that says why. It implements sink.Fence. A nil lease (a worker
// outside any generation, in tests) always holds.
func (l *lease) Valid() error {
	if l == nil {
		return nil
	}
	return l.validAt(time.Now())
}

func (l *lease) validAt(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if age := now.Sub(l.renewed); age >= l.session {
		l.lost = fmt.Errorf("%w: membership last confirmed %v ago, past the session timeout %v", ErrZombie, age.Round(time.Millisecond), l.session)
		return l.lost
	}
	return nil
}

// renew records a heartbeat sent at sent and accepted. A lease that had
// already lapsed stays lost: the coordinator may have handed the
// partitions on in the gap, even if it counts the member again now.
func (l *lease) renew(sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil || !sent.After(l.renewed) {
		return
	}
	if gap := sent.Sub(l.renewed); gap >= l.session {
		l.lost = fmt.Errorf("%w: %v without a confirmed heartbeat, past the session timeout %v", ErrZombie, gap.Round(time.Millisecond), l.session)
		return
	}
	l.renewed = sent
}

func (l *lease) lose(err error) {
	l.mu.Lock()
	if l.lost == nil {
		l.lost = fmt.Errorf("%w: %v", ErrZombie, err)
	}
	l.mu.Unlock()
}

// keepLease heartbeats for gen every interval until ctx is done, renewing
// l on each answer that counts this member and losing it on one that does
// not (unknown member, illegal generation). Transient errors (the
// coordinator moving, the network) renew nothing: if they last a session
// timeout the lease lapses, as the coordinator's own view of the member
// does.
func (p *Pipeline) keepLease(ctx context.Context, gen *kafka.Generation, l *lease, interval time.Duration) {
	var coord net.Addr
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if coord == nil {
			coord = p.coordinator(ctx)
		}
		if coord != nil {
			sent := time.Now()
			hctx, cancel := context.WithTimeout(ctx, interval)
			resp, err := p.client.Heartbeat(hctx, &kafka.HeartbeatRequest{Addr: coord, GroupID: gen.GroupID, GenerationID: gen.ID, MemberID: gen.MemberID})
			cancel()
			if err == nil {
				err = resp.Error
			}
			switch {
			case err == nil, errors.Is(err, kafka.RebalanceInProgress):
				l.renew(sent)
			case errors.Is(err, kafka.UnknownMemberId), errors.Is(err, kafka.IllegalGeneration), errors.Is(err, kafka.FencedInstanceID):
				l.lose(fmt.Errorf("the coordinator answered generation %d's heartbeat with %v", gen.ID, err))
				return
			default:
				coord = nil // find it again: it may have moved
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// coordinator returns the address of the group's coordinator, or nil.
func (p *Pipeline) coordinator(ctx context.Context) net.Addr {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := p.client.FindCoordinator(cctx, &kafka.FindCoordinatorRequest{Key: p.cfg.Group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err != nil || resp.Error != nil || resp.Coordinator == nil {
		return nil
	}
	return kafka.TCP(net.JoinHostPort(resp.Coordinator.Host, strconv.Itoa(resp.Coordinator.Port)))
}
