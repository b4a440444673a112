package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/msiguard/msiguard/internal/metrics"
	"github.com/msiguard/msiguard/stream"
)

// composeServices splits docker-compose.yml into its services' text, keyed
// by service name. It reads the file's own layout (two-space indentation,
// one service per "  name:" line under "services:") rather than YAML in
// general: enough to check the file against the code without a YAML
// module. The file's syntax is validated separately (README, Docker
// section).
func composeServices(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	in, cur := false, ""
	nameRE := regexp.MustCompile(`^  ([a-z][a-z0-9-]*):\s*$`)
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "services:":
			in = true
			continue
		case !in || strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
			continue
		case !strings.HasPrefix(line, " "):
			in = false
			continue
		}
		if m := nameRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		out[cur] += line + "\n"
	}
	return out
}

// composeCommand returns a service's `command: [...]` as a list (the file
// writes them as JSON-compatible flow sequences).
func composeCommand(t *testing.T, service, text string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "command: [")
	if !ok {
		t.Fatalf("service %s has no `command: [...]`", service)
	}
	end := strings.Index(rest, "]")
	var args []string
	if err := json.Unmarshal([]byte("["+rest[:end+1]), &args); err != nil {
		t.Fatalf("service %s: command is not a list of double-quoted strings: %v", service, err)
	}
	return args
}

// flagValue returns the value of --name in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// TestComposeMatchesCode checks docker-compose.yml against the code: every
// msiguard flag and MSIGUARD_ variable it uses exists and its values pass
// the same validation as on the command line; msiguard, the generator and
// the alert watcher use topics the topics service creates (the alerts
// topic compacted); the published port is the metrics port; Kafka is a
// 4.x apache/kafka image; the Dockerfile builds ./cmd/msiguard with Go
// 1.26 and runs it as a non-root user.
func TestComposeMatchesCode(t *testing.T) {
	svcs := composeServices(t)
	for _, name := range []string{"kafka", "topics", "msiguard", "gen", "alerts"} {
		if svcs[name] == "" {
			t.Fatalf("docker-compose.yml has no %s service (services: %v)", name, mapKeys(svcs))
		}
	}

	created := map[string]string{} // topic -> its kafka-topics.sh line
	for _, m := range regexp.MustCompile(`(?m)^.*--topic ([A-Za-z0-9._-]+)\b.*$`).FindAllStringSubmatch(svcs["topics"], -1) {
		if strings.Contains(m[0], "--partitions") {
			created[m[1]] = m[0]
		}
	}
	if len(created) != 3 {
		t.Fatalf("topics service creates %v, want the input, alerts and dead-letter topics", mapKeys(created))
	}

	// msiguard run: flags, environment and the configuration they make.
	runArgs := composeCommand(t, "msiguard", svcs["msiguard"])
	if runArgs[0] != "run" {
		t.Fatalf("msiguard service runs %q, want run", runArgs[0])
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(MSIGUARD_[A-Z_]+):\s*(\S+)`).FindAllStringSubmatch(svcs["msiguard"], -1) {
		env[m[1]] = m[2]
	}
	known := map[string]bool{}
	newRunFlagSet(&runFlags{}).VisitAll(func(fl *flag.Flag) { known[envVar(fl.Name)] = true })
	for k := range env {
		if !known[k] {
			t.Errorf("msiguard service sets %s, which no run flag reads", k)
		}
	}
	f, err := parseRunFlags(runArgs[1:], func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("msiguard service command %v: %v", runArgs, err)
	}
	cfg, err := f.config(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("msiguard service command %v: %v", runArgs, err)
	}
	if _, err := stream.New(cfg); err != nil {
		t.Fatalf("msiguard service command %v: %v", runArgs, err)
	}
	for flag, topic := range map[string]string{"--topic": cfg.Topic, "--alerts-topic": cfg.AlertsTopic, "--dlq-topic": cfg.DLQTopic} {
		if created[topic] == "" {
			t.Errorf("msiguard %s %s is not created by the topics service (it creates %v)", flag, topic, mapKeys(created))
		}
	}
	if !strings.Contains(created[cfg.AlertsTopic], "cleanup.policy=compact") {
		t.Errorf("the alerts topic %s is not created compacted: %s", cfg.AlertsTopic, created[cfg.AlertsTopic])
	}
	if !slices.Contains(cfg.Cluster.Brokers, "kafka:9092") || !strings.Contains(svcs["kafka"], "INTERNAL://kafka:9092") {
		t.Errorf("msiguard --brokers %v does not match Kafka's advertised kafka:9092", cfg.Cluster.Brokers)
	}
	_, port, _ := strings.Cut(f.metricsAddr, ":")
	if !strings.HasPrefix(f.metricsAddr, "0.0.0.0:") || !strings.Contains(svcs["msiguard"], ":"+port+":"+port+`"`) {
		t.Errorf("--metrics-addr %s: want 0.0.0.0:PORT and PORT published in ports", f.metricsAddr)
	}

	// msiguard gen: flags valid, the input topic.
	genArgs := composeCommand(t, "gen", svcs["gen"])
	if genArgs[0] != "gen" {
		t.Fatalf("gen service runs %q, want gen", genArgs[0])
	}
	gf, err := parseGenFlags(genArgs[1:], func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatalf("gen service command %v: %v", genArgs, err)
	}
	if _, err := gf.plan(time.Now); err != nil {
		t.Fatalf("gen service command %v: %v", genArgs, err)
	}
	if gf.topic != cfg.Topic || gf.brokers != f.brokers {
		t.Errorf("gen writes to %s on %s, msiguard reads %s on %s", gf.topic, gf.brokers, cfg.Topic, f.brokers)
	}
	if gf.start != "now" || gf.rate <= 0 {
		t.Errorf("gen --start %s --rate %v: a live stream needs --start now and a rate", gf.start, gf.rate)
	}

	// The alert watcher reads msiguard's alerts topic.
	watch := composeCommand(t, "alerts", svcs["alerts"])
	if got := flagValue(watch, "topic"); got != cfg.AlertsTopic || !strings.Contains(svcs["alerts"], "kafka-console-consumer.sh") {
		t.Errorf("alerts service consumes %q with %v, want kafka-console-consumer.sh on %s", got, watch, cfg.AlertsTopic)
	}

	for _, name := range []string{"kafka", "topics", "alerts"} {
		if !regexp.MustCompile(`image: apache/kafka:4\.\d+\.\d+`).MatchString(svcs[name]) {
			t.Errorf("service %s does not use an apache/kafka 4.x image", name)
		}
	}
	if !strings.Contains(svcs["kafka"], "KAFKA_PROCESS_ROLES: broker,controller") {
		t.Error("kafka service is not a KRaft broker+controller")
	}

	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM golang:1.26 AS build", "./cmd/msiguard", "-X main.version=", "USER nonroot", "EXPOSE " + port} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestComposeContainers checks what docker-compose.yml and the Dockerfile
// promise about the containers, as far as no Docker engine can: the
// Dockerfile uses no BuildKit-only syntax (the classic builder builds it);
// every build argument compose passes is an ARG of the Dockerfile, VERSION
// among them; exactly one service builds the image and the others using it
// never pull it; the msiguard service's healthcheck runs `msiguard
// healthcheck` from the path the Dockerfile copies the binary to, with
// flags the command accepts, on the port run serves /readyz on; and that
// command of the built binary exits 0 for a ready server, 1 otherwise.
func TestComposeContainers(t *testing.T) {
	df := string(mustRead(t, "../../Dockerfile"))
	for _, re := range []string{`(?m)^#\s*syntax\s*=`, `--mount=`, `(?m)^\s*(RUN|COPY|ADD)\s+--(link|chmod|parents|exclude|security|network)`, `<<\s*-?["']?[A-Z]+`} {
		if regexp.MustCompile(re).MatchString(df) {
			t.Errorf("Dockerfile uses BuildKit-only syntax (%s); the classic builder would refuse it", re)
		}
	}
	dfArgs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^ARG\s+([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(df, -1) {
		dfArgs[m[1]] = true
	}
	binPath := regexp.MustCompile(`(?m)^COPY --from=build \S+ (\S+)$`).FindStringSubmatch(df)
	if binPath == nil {
		t.Fatal("Dockerfile: no COPY --from=build of the binary")
	}

	svcs := composeServices(t)
	var builders []string
	for name, text := range svcs {
		if strings.Contains(text, "\n    build:") || strings.HasPrefix(text, "    build:") {
			builders = append(builders, name)
		}
	}
	if len(builders) != 1 || builders[0] != "msiguard" {
		t.Fatalf("services that build an image: %v, want msiguard alone", builders)
	}
	args := regexp.MustCompile(`(?m)^      args:\n((?:        \S+:.*\n)+)`).FindStringSubmatch(svcs["msiguard"])
	if args == nil || !strings.Contains(args[1], "VERSION:") {
		t.Errorf("the msiguard service passes no VERSION build argument:\n%s", svcs["msiguard"])
	} else {
		for _, m := range regexp.MustCompile(`(?m)^        (\S+):`).FindAllStringSubmatch(args[1], -1) {
			if !dfArgs[m[1]] {
				t.Errorf("compose passes build argument %s, which the Dockerfile does not declare (ARGs: %v)", m[1], mapKeys(dfArgs))
			}
		}
	}
	image := regexp.MustCompile(`(?m)^  image: (\S+)`).FindStringSubmatch(string(mustRead(t, "../../docker-compose.yml")))
	if image == nil || !strings.Contains(svcs["gen"], "pull_policy: never") {
		t.Errorf("gen must use the image the msiguard service builds (image %v) with pull_policy: never", image)
	}

	// The healthcheck: the binary's path in the image, the subcommand,
	// its flags, run's metrics port.
	_, rest, ok := strings.Cut(svcs["msiguard"], "healthcheck:\n      test: [")
	if !ok {
		t.Fatal("the msiguard service has no healthcheck with a test list")
	}
	var test []string
	if err := json.Unmarshal([]byte("["+rest[:strings.Index(rest, "]")+1]), &test); err != nil {
		t.Fatal(err)
	}
	if len(test) < 3 || test[0] != "CMD" || test[1] != binPath[1] || test[2] != "healthcheck" {
		t.Fatalf("healthcheck test %q, want [CMD %s healthcheck ...] (no shell in a distroless image)", test, binPath[1])
	}
	hf := &healthcheckFlags{}
	if _, _, err := parseFlags(newHealthcheckFlagSet(hf), &healthcheckHelp, test[3:], envLookup(nil), io.Discard); err != nil {
		t.Fatalf("healthcheck flags %q: %v", test[3:], err)
	}
	rf, err := parseRunFlags(composeCommand(t, "msiguard", svcs["msiguard"])[1:], envLookup(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, hport, _ := strings.Cut(hf.addr, ":")
	_, rport, _ := strings.Cut(rf.metricsAddr, ":")
	if hport != rport {
		t.Errorf("healthcheck asks port %s, run serves probes on %s", hport, rport)
	}

	// The built binary's healthcheck against a ready server, one that is
	// not ready, and a port nobody listens on.
	for _, tc := range []struct {
		ready error
		code  int
		out   string
	}{{nil, 0, "ready"}, {errors.New("rebalancing"), 1, "503 Service Unavailable: rebalancing"}} {
		srv := httptest.NewServer(metrics.Handler(prometheus.NewRegistry(), func() error { return tc.ready }, nil))
		r := runCLI(t, time.Minute, nil, nil, "healthcheck", "--addr", strings.TrimPrefix(srv.URL, "http://"))
		srv.Close()
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.out) {
			t.Errorf("healthcheck, ready=%v: exit %d, out %q %q", tc.ready, r.code, r.stdout, r.stderr)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if r := runCLI(t, time.Minute, nil, nil, "healthcheck", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("healthcheck of a closed port: exit %d, %q", r.code, r.stderr)
	}
}
