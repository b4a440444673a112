package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/msiguard/msiguard/kafkaio"
)

// probeTimeout bounds each connection attempt of probeBrokers.
const probeTimeout = 10 * time.Second

// probeBrokers opens one connection to the brokers, TLS and SASL
// included, and returns at once when none answers, with the hints msiguard
// run gives (run itself waits up to 30 s for brokers that are starting;
// gen and backtest are run by hand or after the brokers are up, where
// waiting 30 s to say "connection refused" only hides the mistake). Errors
// no retry fixes (certificates, credentials) are *kafkaio.FatalError.
func probeBrokers(ctx context.Context, c *kafkaio.Cluster) error {
	d, err := c.Dialer()
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	var errs []string
	var last error
	for _, b := range c.Brokers {
		dctx, cancel := context.WithTimeout(ctx, probeTimeout)
		conn, err := d.DialContext(dctx, "tcp", b)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fe := kafkaio.Classify(err); kafkaio.IsFatal(fe) {
			return fmt.Errorf("connecting to %s: %w", b, fe)
		}
		var dns *net.DNSError
		if errors.As(err, &dns) && dns.IsNotFound {
			errs = append(errs, fmt.Sprintf("%s: the host name %s does not resolve", b, dns.Name))
		} else {
			errs = append(errs, fmt.Sprintf("%s: %v", b, err))
		}
		last = err
	}
	return fmt.Errorf("cannot reach the brokers %s (%s): %w (check --brokers, the network, and --tls: a TLS listener answers nothing to plaintext)",
		strings.Join(c.Brokers, ","), strings.Join(errs, "; "), errBrokersUnreachable{last})
}

// errBrokersUnreachable wraps the last connection error of probeBrokers.
type errBrokersUnreachable struct{ err error }

func (e errBrokersUnreachable) Error() string { return "no broker answered" }
func (e errBrokersUnreachable) Unwrap() error { return e.err }
