// Package devbroker runs an in-process Kafka broker for development: the
// franz-go kfake broker (github.com/twmb/franz-go/pkg/kfake) on one TCP
// port, with topics made up front. `msiguard demo` runs the pipeline
// against one, and `msiguard dev-broker` serves one on its own so that other
// Kafka clients can be tried with msiguard without Docker or a JVM.
//
// It is for development only. kfake keeps every record in memory (bounded
// here by per-topic retention), persists nothing, and implements the Kafka
// protocol well enough for clients' test suites, not as a production
// broker: no replication, no durability, no authentication by default.
//
// kfake is a broker, not a client, so this package does not break the rule
// that only kafkaio, sink and stream speak Kafka as clients. It imports
// kfake and kversion, and no msiguard package.
package devbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// Defaults applied by Start to zero Config fields.
const (
	DefaultListen     = "127.0.0.1:9092"
	DefaultPartitions = 3
	// DefaultRetentionBytes bounds each partition of the topics made by
	// Start (retention.bytes), since kfake holds records in memory.
	DefaultRetentionBytes = 256 << 20
	// DefaultRetentionCheck is how often retention is applied
	// (log.cleaner.backoff.ms; kfake's own default is an hour).
	DefaultRetentionCheck = 10 * time.Second
)

// ErrConfig is wrapped by the errors Start and ParseTopics return for bad
// settings.
var ErrConfig = errors.New("invalid dev broker configuration")

// Topic is a topic to create at startup.
type Topic struct {
	Name string
	// Partitions is the partition count. Default Config.Partitions.
	Partitions int
	// Compact sets cleanup.policy=compact (the alerts topic should be).
	Compact bool
}

// String formats t as ParseTopics reads it.
func (t Topic) String() string {
	s := t.Name
	if t.Partitions > 0 {
		s += ":" + strconv.Itoa(t.Partitions)
	}
	if t.Compact {
		s += ":compact"
	}
	return s
}

// ParseTopics reads a comma-separated list of NAME[:PARTITIONS][:compact],
// for example "sysmon:6,msiguard.alerts:3:compact,msiguard.dlq:1".
func ParseTopics(s string) ([]Topic, error) {
	var out []Topic
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		t := Topic{Name: parts[0]}
		for _, p := range parts[1:] {
			switch n, err := strconv.Atoi(p); {
			case p == "compact":
				t.Compact = true
			case err == nil && n > 0 && n <= 1000:
				t.Partitions = n
			default:
				return nil, fmt.Errorf("%w: topic %q: %q is neither a partition count (1..1000) nor \"compact\" (use NAME[:PARTITIONS][:compact])", ErrConfig, item, p)
			}
		}
		if err := validTopicName(t.Name); err != nil {
			return nil, fmt.Errorf("%w: topic %q: %v", ErrConfig, t.Name, err)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: topic %q is listed twice", ErrConfig, t.Name)
		}
		seen[t.Name] = true
		out = append(out, t)
	}
	return out, nil
}

// validTopicName applies Kafka's rules for topic names.
func validTopicName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case s == "." || s == "..":
		return errors.New("not a valid topic name")
	case len(s) > 249:
		return errors.New("longer than 249 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("character %q not allowed (use letters, digits, '.', '_' and '-')", r)
		}
	}
	return nil
}

// Config configures a Broker. The zero value listens on DefaultListen.
type Config struct {
	// Listen is the TCP address to listen on, host:port. Port 0 picks a
	// free port (see Broker.Addr). Default DefaultListen.
	Listen string
	// Advertise is the host:port clients are told to connect to (Kafka's
	// advertised.listeners). Default: the listening address, with
	// 127.0.0.1 in place of an unspecified host (0.0.0.0 or ::).
	Advertise string
	// Topics are created before Start returns.
	Topics []Topic
	// Partitions is the partition count of Topics that give none and of
	// topics clients create without one (auto-creation is on, as in a
	// default Apache Kafka). Default DefaultPartitions.
	Partitions int
	// RetentionBytes bounds each partition of Topics (retention.bytes): the
	// oldest records are dropped beyond it. Default DefaultRetentionBytes;
	// negative for no bound.
	RetentionBytes int64
	// Logger receives the broker's warnings and errors. Default: none.
	Logger *slog.Logger
	// LogRequests also passes kfake's per-request log lines to Logger, at
	// debug level. Default false: a logger at debug level for the rest of
	// a program does not get one line per Kafka request.
	LogRequests bool
}

// Broker is a running in-process broker. Close stops it.
type Broker struct {
	fake *kfake.Cluster
	addr string
}

// Start listens, starts the broker and creates cfg.Topics.
func Start(cfg Config) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultPartitions
	}
	if cfg.Partitions < 0 {
		return nil, fmt.Errorf("%w: partitions %d is negative", ErrConfig, cfg.Partitions)
	}
	if cfg.RetentionBytes == 0 {
		cfg.RetentionBytes = DefaultRetentionBytes
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address %q: %v (want host:port, e.g. 127.0.0.1:9092)", ErrConfig, cfg.Listen, err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	adv := cfg.Advertise
	if adv == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		adv = net.JoinHostPort(host, port)
	} else if _, _, err := net.SplitHostPort(adv); err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w: advertised address %q: %v (want host:port)", ErrConfig, adv, err)
	}
	advAddr, err := net.ResolveTCPAddr("tcp", adv)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w: advertised address %q: %v", ErrConfig, adv, err)
	}

	// kfake asks for a listener on 127.0.0.1:port and tells clients the
	// listener's Addr(): hand it ours, reporting the advertised address.
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			if used {
				return nil, errors.New("devbroker: kfake asked for a second listener")
			}
			used = true
			return advertised{ln, advAddr}, nil
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.ClusterID("msiguard-dev"),
		kfake.BrokerConfigs(map[string]string{
			"log.cleaner.backoff.ms": strconv.FormatInt(DefaultRetentionCheck.Milliseconds(), 10),
		}),
		kfake.MaxVersions(javaCompatibleVersions()),
	}
	if cfg.Logger != nil {
		opts = append(opts, kfake.WithLogger(slogAdapter{cfg.Logger, cfg.LogRequests}))
	}
	fake, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("starting the in-process broker: %w", err)
	}
	b := &Broker{fake: fake, addr: adv}
	for _, t := range cfg.Topics {
		if t.Partitions == 0 {
			t.Partitions = cfg.Partitions
		}
		configs := map[string]string{}
		if cfg.RetentionBytes > 0 {
			configs["retention.bytes"] = strconv.FormatInt(cfg.RetentionBytes, 10)
			// Retention frees memory a segment at a time, as in Kafka:
			// with kfake's 100 MiB segments, a partition would hold up to
			// that much more than its bound.
			configs["segment.bytes"] = strconv.FormatInt(min(max(cfg.RetentionBytes/4, 1<<20), 16<<20), 10)
		}
		if t.Compact {
			configs["cleanup.policy"] = "compact"
		}
		if err := b.CreateTopic(t.Name, t.Partitions, configs); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// Addr returns the address clients connect to (the advertised address).
func (b *Broker) Addr() string { return b.addr }

// CreateTopic creates a topic with partitions partitions and the given
// topic configs (nil for none), and waits until it can be produced to.
func (b *Broker) CreateTopic(name string, partitions int, configs map[string]string) error {
	if err := validTopicName(name); err != nil {
		return fmt.Errorf("%w: topic %q: %v", ErrConfig, name, err)
	}
	if err := b.fake.CreateTopic(name, int32(partitions), configs); err != nil {
		return fmt.Errorf("creating topic %s: %w", name, err)
	}
	// kfake creates the topic on its loop before returning: metadata
	// requests made from now on see it, with leaders.
	return nil
}

// Close stops the broker and drops its data. It is safe to call twice.
func (b *Broker) Close() { b.fake.Close() }

// advertised is a listener that reports another address, the one kfake
// puts in its metadata responses.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

// slogAdapter passes kfake's log lines to slog: errors and warnings always,
// its per-request info and debug lines only when requests is set and debug
// is enabled.
type slogAdapter struct {
	l        *slog.Logger
	requests bool
}

func (s slogAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	var lv slog.Level
	switch level {
	case kfake.LogLevelError:
		lv = slog.LevelError
	case kfake.LogLevelWarn:
		lv = slog.LevelWarn
	default:
		if !s.requests {
			return
		}
		lv = slog.LevelDebug
	}
	ctx := context.Background()
	if !s.l.Enabled(ctx, lv) {
		return
	}
	s.l.Log(ctx, lv, fmt.Sprintf(format, args...), "component", "kfake")
}

// Kafka request keys whose newest versions kfake answers in a form Apache
// Kafka's own Java admin client (kafka-topics.sh, kafka-configs.sh and
// every AdminClient) cannot read.
const (
	keyCreateTopics            = 19
	keyDescribeTopicPartitions = 75
)

// javaCompatibleVersions is every request version kfake implements, less
// two it answers with a null where Kafka sends a list, which makes the
// Java admin client throw a NullPointerException:
//
//   - CreateTopics v5 and later carry the created topic's configs; kfake
//     leaves them null when none were given, or lists only those given
//     with null values for the rest: kafka-topics.sh --create fails
//     (the topic is created nonetheless). v4 has no configs at all.
//   - DescribeTopicPartitions (v0, KIP-966) carries each partition's
//     EligibleLeaderReplicas and LastKnownElr, which kfake leaves null:
//     kafka-topics.sh --describe fails. Without it in ApiVersions the Java
//     client describes topics with Metadata, as it does with brokers
//     before Kafka 3.7.
//
// Clients that use neither (kafka-go, franz-go, librdkafka's kcat) are
// unaffected: CreateTopics v4 still creates topics with configs.
func javaCompatibleVersions() *kversion.Versions {
	v := kversion.Tip()
	if max, ok := v.LookupMaxKeyVersion(keyCreateTopics); ok && max > 4 {
		v.SetMaxKeyVersion(keyCreateTopics, 4)
	}
	v.SetMaxKeyVersion(keyDescribeTopicPartitions, -1)
	return v
}
