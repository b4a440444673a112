package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/msiguard/msiguard/internal/metrics"
)

var healthcheckHelp = cmdHelp{
	name: "healthcheck",
	intro: `Usage: msiguard healthcheck [--addr HOST:PORT] [--timeout D]

Asks a running msiguard run (or demo) whether it is ready: GET /readyz on its
--metrics-addr. Exits 0 when it answers 200, 1 otherwise (not ready, not
listening, too slow), with the answer on standard output. Made for container
health checks where the image has no curl (the distroless image). Flags:`,
	examples: `Examples:
  msiguard healthcheck                           # msiguard run with the default --metrics-addr
  msiguard healthcheck --addr 127.0.0.1:9108     # docker-compose.yml's healthcheck

In docker-compose.yml:
  healthcheck:
    test: ["CMD", "/usr/local/bin/msiguard", "healthcheck", "--addr", "127.0.0.1:9108"]
`,
	scoped: []string{"addr", "timeout"},
}

type healthcheckFlags struct {
	addr    string
	timeout time.Duration
}

func newHealthcheckFlagSet(f *healthcheckFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard healthcheck", flag.ContinueOnError)
	fs.StringVar(&f.addr, "addr", metrics.DefaultAddr, "`host:port` msiguard serves /readyz on (its --metrics-addr; 0.0.0.0 is asked on 127.0.0.1)")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "give up after this long")
	return fs
}

// healthcheckCommand is msiguard healthcheck.
func healthcheckCommand(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := &healthcheckFlags{}
	fs := newHealthcheckFlagSet(f)
	if _, _, err := parseFlags(fs, &healthcheckHelp, args, nil, stdout); err != nil {
		return err
	}
	if err := positiveFlags(fs, "timeout"); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(f.addr)
	if err != nil || port == "" {
		return fmt.Errorf("%w: --addr %q is not host:port (e.g. %s)", errUsage, f.addr, metrics.DefaultAddr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a wildcard listen address is reached on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: --addr: %w", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s: %s", url, resp.Status, answer)
	}
	fmt.Fprintln(stdout, answer)
	return nil
}
