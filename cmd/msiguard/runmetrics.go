package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/msiguard/msiguard/internal/metrics"
	"github.com/msiguard/msiguard/stream"
)

// serveMetrics serves p's metrics and probes on addr (host:port; "" turns
// them off) until the returned stop function is called. The address is
// bound before it returns, so a taken port is reported before the
// pipeline starts.
func serveMetrics(ctx context.Context, addr string, p *stream.Pipeline, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		log.Info("metrics and probes disabled (--metrics-addr '')")
		return func() {}, nil
	}
	srv, err := metrics.Listen(addr, p, log)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	log.Info("serving metrics and probes", "metrics", "http://"+srv.Addr()+"/metrics", "liveness", "/healthz", "readiness", "/readyz")
	// The server outlives ctx (SIGTERM) so that /readyz reports the drain
	// and a last scrape sees the final counts; stop ends it.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx); err != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
