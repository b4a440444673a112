package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
)

func genRun(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"gen"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func TestGenFileIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b, z := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "c.jsonl.gz")
	for _, out := range []string{a, b, z} {
		if _, stderr, err := genRun(t, "--out", out, "--count", "3000", "--seed", "9", "--attack-rate", "0.01"); err != nil {
			t.Fatalf("gen --out %s: %v\n%s", out, err, stderr)
		}
	}
	da, db := mustRead(t, a), mustRead(t, b)
	if !bytes.Equal(da, db) {
		t.Fatal("same seed, different files")
	}
	if n := bytes.Count(da, []byte("\n")); n != 3000 {
		t.Fatalf("%d lines, want 3000", n)
	}
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, z)))
	if err != nil {
		t.Fatalf("%s is not gzip: %v", z, err)
	}
	dz, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(dz, da) {
		t.Fatalf("gzip file decompresses to other records (err %v)", err)
	}

	// Every line is read by the detector; the attacks match.
	d, _ := detector.NewDefault(detector.Options{})
	matches := 0
	for _, line := range bytes.Split(bytes.TrimSuffix(da, []byte("\n")), []byte("\n")) {
		_, ok, err := d.Evaluate(line)
		if err != nil {
			t.Fatalf("detector: %v\n%s", err, line)
		}
		if ok {
			matches++
		}
	}
	if matches < 10 {
		t.Errorf("%d matches in 3000 records at attack rate 0.01", matches)
	}
}

func TestGenStdoutAndSummary(t *testing.T) {
	stdout, stderr, err := genRun(t, "--out", "-", "--count", "25", "--shapes", "xml,evtx-map", "--start", "2024-01-02T03:04:05Z", "--events-per-second", "5")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 25 {
		t.Fatalf("%d lines on stdout, want 25", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "<Event ") && !strings.HasPrefix(l, `{"Event":{"#attributes"`) {
			t.Fatalf("line in neither xml nor evtx-map shape: %.80s", l)
		}
	}
	for _, want := range []string{"25 records generated", "2024-01-02T03:04:05Z .. 2024-01-02T03:04:09.8Z", "expected alerts"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	if _, stderr, _ = genRun(t, "--out", "-", "--count", "1", "--quiet"); stderr != "" {
		t.Errorf("--quiet printed %q", stderr)
	}
}

func TestGenBytes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.jsonl")
	if _, _, err := genRun(t, "--out", out, "--bytes", "1MB"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	if st.Size() < 1e6 || st.Size() > 1e6+20_000 {
		t.Errorf("--bytes 1MB wrote %d bytes", st.Size())
	}
}

func TestGenEnv(t *testing.T) {
	env := map[string]string{"MSIGUARD_COUNT": "7", "MSIGUARD_SEED": "3", "MSIGUARD_BROKERS": "kafka:9092", "MSIGUARD_TOPIC": "sysmon", "MSIGUARD_GEN_PARTITIONS": "12"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f, err := parseGenFlags([]string{"--out", "-", "--seed", "4"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.count != 7 || f.seed != 4 || f.brokers != "" || f.topic != "" {
		t.Errorf("count %d seed %d brokers %q topic %q: want the env count, the flag seed, no Kafka", f.count, f.seed, f.brokers, f.topic)
	}
	p, err := f.plan(time.Now)
	if err != nil || p.toKafka || p.count != 7 {
		t.Errorf("plan = %+v, %v: want 7 records to a file despite MSIGUARD_GEN_PARTITIONS", p, err)
	}
	f, err = parseGenFlags(nil, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := f.plan(time.Now); err != nil || !p.toKafka || f.partitions != 12 {
		t.Errorf("from the environment alone: plan %+v, %v, partitions %d: want Kafka", p, err, f.partitions)
	}
	env["MSIGUARD_ATTACK_RATE"] = "lots"
	if _, err := parseGenFlags(nil, lookup, io.Discard); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "MSIGUARD_ATTACK_RATE") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestGenUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "say where to write"},
		{[]string{"--out", "x", "--brokers", "k:9092", "--topic", "t"}, "give one of them"},
		{[]string{"--topic", "t"}, "needs --brokers"},
		{[]string{"--brokers", "k:9092"}, "needs --topic"},
		{[]string{"--out", "-"}, "--count N or --bytes SIZE"},
		{[]string{"--out", "-", "--count", "5", "--bytes", "1MB"}, "not both"},
		{[]string{"--out", "-", "--bytes", "12 parsecs"}, "unknown unit"},
		{[]string{"--out", "-", "--count", "5", "--partitions", "3"}, "--partitions applies to --brokers only"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--gzip"}, "--compression"},
		{[]string{"--out", "-", "--count", "5", "--shapes", "winlogbeat,csv"}, `unknown shape "csv"`},
		{[]string{"--out", "-", "--count", "5", "--start", "yesterday"}, "RFC 3339"},
		{[]string{"--out", "-", "--count", "5", "--attack-rate", "2"}, "attack rate"},
		{[]string{"--out", "-", "--count", "5", "--hosts", "0"}, "--hosts"},
		{[]string{"--out", "-", "--count", "5", "--key", "user"}, "--key"},
		{[]string{"--out", "-", "--count", "5", "extra"}, "unexpected argument"},
		{[]string{"--brokers", "nocolon", "--topic", "t"}, "host:port"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--compression", "brotli"}, "compression"},
	} {
		_, _, err := genRun(t, tc.args...)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gen %q = %v, want a usage error about %q", tc.args, err, tc.want)
		}
	}
}

func TestGenHelp(t *testing.T) {
	stdout, _, err := genRun(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "msiguard gen --out", "--brokers", "MSIGUARD_ATTACK_RATE", "--events-per-second", "--partitions"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"500MB": 500e6, "2GiB": 2 << 30, "64k": 64e3, "1.5m": 1.5e6, "123": 123, "10 KiB": 10 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "5XB", "0"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// plaintextBroker starts the test broker, skipping t unless it takes
// plaintext connections without SASL (gen's flags here name neither).
func plaintextBroker(t *testing.T) *kafkatest.Cluster {
	t.Helper()
	c := kafkatest.Start(t)
	if c.SASL() != nil || c.TLSConfig() != nil {
		t.Skip("plaintext broker needed")
	}
	return c
}

func TestGenToKafka(t *testing.T) {
	c := plaintextBroker(t)
	topic := kafkatest.UniqueName(t, "gen")
	_, stderr, err := genRun(t, "--brokers", strings.Join(c.Addrs(), ","), "--topic", topic, "--partitions", "3",
		"--count", "5000", "--batch", "700", "--key", "host", "--compression", "lz4", "--timestamps", "event", "--seed", "5")
	if err != nil {
		t.Fatalf("gen to Kafka: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "5000 acknowledged") {
		t.Errorf("summary: %s", stderr)
	}
	// Read everything back: 5000 records over 3 partitions, keyed by host,
	// with event-time timestamps, identical to the file of the same seed.
	want := map[string]bool{}
	stdout, _, err := genRun(t, "--out", "-", "--count", "5000", "--seed", "5")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		want[l] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := 0
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Addrs(), Dialer: c.Dialer(), Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
		lag, err := r.ReadLag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			t.Errorf("partition %d is empty", p)
		}
		for ; lag > 0; lag-- {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !want[string(m.Value)] {
				t.Fatalf("partition %d offset %d: record not in the file of the same seed: %.100s", p, m.Offset, m.Value)
			}
			if !bytes.Contains(m.Value, m.Key) || m.Time.Year() != 2025 {
				t.Fatalf("partition %d offset %d: key %q, time %v", p, m.Offset, m.Key, m.Time)
			}
			got++
		}
		r.Close()
	}
	if got != 5000 {
		t.Errorf("read %d records, want 5000", got)
	}
}

func TestGenToKafkaRateAndInterrupt(t *testing.T) {
	c := plaintextBroker(t)
	topic := kafkatest.UniqueName(t, "genrate")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	began := time.Now()
	err := run(ctx, []string{"gen", "--brokers", strings.Join(c.Addrs(), ","), "--topic", topic, "--partitions", "2", "--rate", "400"}, &out, &errb)
	if err != nil {
		t.Fatalf("interrupted gen: %v\n%s", err, errb.String())
	}
	if el := time.Since(began); el > 5*time.Second {
		t.Errorf("gen took %v to stop after its context ended", el)
	}
	// About 400 records/s for 1.5 s: between 300 and 800 records.
	if acked, err := genAcked(errb.String()); err != nil || acked < 300 || acked > 800 {
		t.Errorf("acknowledged %d records (%v) in 1.5 s at --rate 400:\n%s", acked, err, errb.String())
	}
}

// genAcked reads the acknowledged count from gen's summary line.
func genAcked(summary string) (int, error) {
	_, rest, ok := strings.Cut(summary, "records generated, ")
	if !ok {
		return 0, errors.New("no summary line")
	}
	num, _, _ := strings.Cut(rest, " ")
	return strconv.Atoi(num)
}
