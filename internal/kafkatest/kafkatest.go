package kafkatest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"
)

// EnvBrokers names the environment variable that points the harness at a real
// Kafka: comma-separated host:port bootstrap addresses.
const EnvBrokers = "KAFKA_BROKERS"

// EnvLog, when set to error, warn, info or debug, makes in-process kfake
// clusters log at that level to stderr (off by default).
const EnvLog = "KAFKATEST_LOG"

// DefaultPartitions is the partition count of topics made by Topics(...) and
// of auto-created topics on kfake, unless Partitions(n) says otherwise.
// Real brokers started by scripts/kafka.sh use KAFKA_NUM_PARTITIONS (default 3)
// for auto-created topics.
const DefaultPartitions = 3

// SASL mechanism names accepted by WithSASL.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Cluster is a broker for a test: the real Apache Kafka named by KAFKA_BROKERS
// (comma-separated) when that env var is set, else an in-process kfake cluster
// on 127.0.0.1 that is closed by t.Cleanup.
type Cluster struct {
	addrs      []string
	fake       *kfake.Cluster
	partitions int
	tls        *tls.Config
	mech       sasl.Mechanism
}

// Option configures Start.
type Option func(*config)

type config struct {
	partitions int
	topics     []string
	brokers    int
	sasl       *saslCreds
	tls        bool
	faults     bool
	fakeOpts   []kfake.Opt
}

type saslCreds struct{ mechanism, user, pass string }

// Partitions sets the partition count for topics named by Topics and, on
// kfake, for auto-created topics. Default DefaultPartitions.
func Partitions(n int) Option { return func(c *config) { c.partitions = n } }

// Topics creates these topics (Partitions(n) partitions each) before Start
// returns. On a real broker the names are shared by every test using it:
// build them with UniqueName.
func Topics(names ...string) Option {
	return func(c *config) { c.topics = append(c.topics, names...) }
}

// Brokers sets how many brokers a kfake cluster has (default 1, like the
// single-node broker of scripts/kafka.sh). Ignored on real Kafka.
func Brokers(n int) Option { return func(c *config) { c.brokers = n } }

// WithSASL makes the kfake cluster require SASL and creates one user with
// mechanism Plain, ScramSHA256 or ScramSHA512. Cluster.Dialer and
// Cluster.Transport then authenticate as that user. On real Kafka
// (KAFKA_BROKERS set) Start skips the test: scripts/kafka.sh runs PLAINTEXT only.
func WithSASL(mechanism, user, pass string) Option {
	return func(c *config) { c.sasl = &saslCreds{mechanism, user, pass} }
}

// WithTLS makes the kfake cluster listen with TLS on a self-signed
// certificate for 127.0.0.1 made for this test; Cluster.TLSConfig returns the
// client side (trusting only that certificate). On real Kafka Start skips the
// test.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithFaults says the test injects faults through Cluster.Fake (kfake's
// ControlKey), which real Kafka cannot do: on real Kafka Start skips the test.
func WithFaults() Option { return func(c *config) { c.faults = true } }

// FakeOptions passes options straight to kfake.NewCluster (for example
// kfake.GroupMinSessionTimeout or kfake.BrokerConfigs). Ignored on real Kafka.
func FakeOptions(opts ...kfake.Opt) Option {
	return func(c *config) { c.fakeOpts = append(c.fakeOpts, opts...) }
}

// Start returns the broker for this test. See Cluster.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	cfg := config{partitions: DefaultPartitions, brokers: 1}
	for _, o := range opts {
		o(&cfg)
	}
	c := &Cluster{partitions: cfg.partitions}

	if env := strings.TrimSpace(os.Getenv(EnvBrokers)); env != "" {
		if cfg.sasl != nil || cfg.tls {
			t.Skipf("SASL/TLS tests run on the in-process kfake broker only; %s=%s is a PLAINTEXT broker", EnvBrokers, env)
		}
		if cfg.faults {
			t.Skipf("fault injection needs the in-process kfake broker; %s=%s is real Kafka", EnvBrokers, env)
		}
		for _, a := range strings.Split(env, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.addrs = append(c.addrs, a)
			}
		}
		if len(c.addrs) == 0 {
			t.Fatalf("kafkatest: %s=%q names no broker", EnvBrokers, env)
		}
		// Fail fast, and say why, when the named broker is not there.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := c.Dialer().DialContext(ctx, "tcp", c.addrs[0])
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = conn.Brokers()
			conn.Close()
		}
		cancel()
		if err != nil {
			t.Fatalf("kafkatest: %s=%s: broker not reachable: %v (scripts/kafka.sh start?)", EnvBrokers, env, err)
		}
	} else {
		c.startFake(t, cfg)
	}

	for _, topic := range cfg.topics {
		c.CreateTopic(t, topic, cfg.partitions)
	}
	return c
}

func (c *Cluster) startFake(t testing.TB, cfg config) {
	t.Helper()
	kopts := []kfake.Opt{
		kfake.NumBrokers(cfg.brokers),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.partitions),
	}
	if lvl, ok := logLevel(os.Getenv(EnvLog)); ok {
		kopts = append(kopts, kfake.WithLogger(kfake.BasicLogger(os.Stderr, lvl)))
	}
	if cfg.sasl != nil {
		mech, err := Mechanism(cfg.sasl.mechanism, cfg.sasl.user, cfg.sasl.pass)
		if err != nil {
			t.Fatalf("kafkatest: %v", err)
		}
		c.mech = mech
		kopts = append(kopts, kfake.EnableSASL(), kfake.Superuser(cfg.sasl.mechanism, cfg.sasl.user, cfg.sasl.pass))
	}
	if cfg.tls {
		server, client, err := SelfSignedTLS("127.0.0.1", "localhost")
		if err != nil {
			t.Fatalf("kafkatest: %v", err)
		}
		c.tls = client
		kopts = append(kopts, kfake.TLS(server))
	}
	kopts = append(kopts, cfg.fakeOpts...)
	fake, err := kfake.NewCluster(kopts...)
	if err != nil {
		t.Fatalf("kafkatest: starting kfake: %v", err)
	}
	t.Cleanup(fake.Close)
	c.fake = fake
	c.addrs = fake.ListenAddrs()
}

func logLevel(s string) (kfake.LogLevel, bool) {
	switch strings.ToLower(s) {
	case "error":
		return kfake.LogLevelError, true
	case "warn":
		return kfake.LogLevelWarn, true
	case "info":
		return kfake.LogLevelInfo, true
	case "debug":
		return kfake.LogLevelDebug, true
	}
	return kfake.LogLevelNone, false
}

// Mechanism returns kafka-go's SASL mechanism for Plain, ScramSHA256 or
// ScramSHA512.
func Mechanism(mechanism, user, pass string) (sasl.Mechanism, error) {
	switch mechanism {
	case Plain:
		return plain.Mechanism{Username: user, Password: pass}, nil
	case ScramSHA256:
		return scram.Mechanism(scram.SHA256, user, pass)
	case ScramSHA512:
		return scram.Mechanism(scram.SHA512, user, pass)
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q (want %s, %s or %s)", mechanism, Plain, ScramSHA256, ScramSHA512)
}

// Addrs returns the bootstrap addresses (host:port).
func (c *Cluster) Addrs() []string { return append([]string(nil), c.addrs...) }

// Real reports whether this is a real Kafka (KAFKA_BROKERS) rather than kfake.
func (c *Cluster) Real() bool { return c.fake == nil }

// Fake returns the kfake cluster, for fault injection with ControlKey; nil on
// real Kafka (tests that need it should skip when Real()).
func (c *Cluster) Fake() *kfake.Cluster { return c.fake }

// Partitions returns the default partition count of this harness.
func (c *Cluster) Partitions() int { return c.partitions }

// TLSConfig returns the client TLS config for a WithTLS cluster (a fresh
// clone each call), or nil.
func (c *Cluster) TLSConfig() *tls.Config {
	if c.tls == nil {
		return nil
	}
	return c.tls.Clone()
}

// SASL returns the kafka-go SASL mechanism for a WithSASL cluster, or nil.
func (c *Cluster) SASL() sasl.Mechanism { return c.mech }

// Dialer returns a kafka-go Dialer for this cluster (TLS and SASL filled in),
// for kafka.Conn, kafka.Reader and kafka.ConsumerGroup.
func (c *Cluster) Dialer() *kafka.Dialer {
	return &kafka.Dialer{
		ClientID:      "kafkatest",
		Timeout:       10 * time.Second,
		DualStack:     true,
		TLS:           c.TLSConfig(),
		SASLMechanism: c.mech,
	}
}

// Transport returns a kafka-go Transport for this cluster, for kafka.Writer
// and kafka.Client. It is closed (idle connections) by t.Cleanup.
func (c *Cluster) Transport(t testing.TB) *kafka.Transport {
	tr := &kafka.Transport{
		ClientID:    "kafkatest",
		DialTimeout: 10 * time.Second,
		TLS:         c.TLSConfig(),
		SASL:        c.mech,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// Client returns a kafka.Client on this cluster's Transport.
func (c *Cluster) Client(t testing.TB) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.addrs...), Transport: c.Transport(t), Timeout: 10 * time.Second}
}

// CreateTopic creates topic with the given number of partitions (replication
// factor 1) through kafka-go's Conn.CreateTopics sent to the controller, and
// waits until every partition has a leader, so a produce right after does not
// race the broker. A topic that already exists with that many partitions is
// fine; with another count it fails the test.
func (c *Cluster) CreateTopic(t testing.TB, name string, partitions int) {
	t.Helper()
	c.CreateTopicWith(t, name, partitions, nil)
}

// CreateTopicWith is CreateTopic with topic configs, such as
// max.message.bytes or cleanup.policy.
func (c *Cluster) CreateTopicWith(t testing.TB, name string, partitions int, configs map[string]string) {
	t.Helper()
	if partitions <= 0 {
		partitions = c.partitions
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.createTopic(ctx, name, partitions, configs); err != nil {
		t.Fatalf("kafkatest: create topic %q: %v", name, err)
	}
}

func (c *Cluster) createTopic(ctx context.Context, name string, partitions int, configs map[string]string) error {
	d := c.Dialer()
	conn, err := d.DialContext(ctx, "tcp", c.addrs[0])
	if err != nil {
		return err
	}
	controller, err := conn.Controller()
	conn.Close()
	if err != nil {
		return fmt.Errorf("finding controller: %w", err)
	}
	cconn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port)))
	if err != nil {
		return fmt.Errorf("dialing controller %s:%d: %w", controller.Host, controller.Port, err)
	}
	defer cconn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = cconn.SetDeadline(dl)
	}
	// Conn.CreateTopics itself ignores TOPIC_ALREADY_EXISTS (createtopics.go),
	// so an existing topic shows up only in the metadata below.
	tc := kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: 1}
	for k, v := range configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	err = cconn.CreateTopics(tc)
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return err
	}
	return c.waitTopic(ctx, name, partitions)
}

// waitTopic polls metadata until topic has partitions partitions, each with a
// leader. Brokers (kfake and KRaft alike) publish a new topic's partitions
// all at once, so another non-zero count means the topic existed before with
// that count: an error at once rather than something to wait for.
func (c *Cluster) waitTopic(ctx context.Context, name string, partitions int) error {
	d := c.Dialer()
	var last error
	for {
		last = func() error {
			conn, err := d.DialContext(ctx, "tcp", c.addrs[0])
			if err != nil {
				return err
			}
			defer conn.Close()
			ps, err := conn.ReadPartitions(name)
			if err != nil {
				return err
			}
			if len(ps) != partitions {
				if len(ps) > 0 {
					return errWrongCount{fmt.Errorf("topic already exists with %d partitions, want %d", len(ps), partitions)}
				}
				return fmt.Errorf("topic has %d partitions, want %d", len(ps), partitions)
			}
			for _, p := range ps {
				if p.Leader.Host == "" || p.Leader.Port == 0 {
					return fmt.Errorf("partition %d has no leader yet", p.ID)
				}
			}
			return nil
		}()
		var wrong errWrongCount
		if last == nil || errors.As(last, &wrong) {
			return last
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic metadata: %w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type errWrongCount struct{ error }

var uniqueSeq atomic.Uint64

// UniqueName returns prefix-<test name>-<random>: a topic or group name that
// no other test (nor an earlier run against the same broker) uses, so tests
// can share one real broker. It only holds characters Kafka allows in topic
// names ([a-zA-Z0-9._-]) and stays well under the 249-character limit.
func UniqueName(t testing.TB, prefix string) string {
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 150 {
		name = name[:150]
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	parts = append(parts, name, hex.EncodeToString(rnd[:])+strconv.FormatUint(uniqueSeq.Add(1), 36))
	return strings.Join(parts, "-")
}

// WaitFor polls cond every 20ms until it returns nil or timeout passes, then
// fails the test with cond's last error. Use it instead of sleeping.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kafkatest: condition not met within %v: %v", timeout, err)
		}
		<-tick.C
	}
}

// Produce writes msgs with w, at most 5,000 per WriteMessages call (which
// sends all it is given at once), failing t on the first error.
func Produce(t testing.TB, w *kafka.Writer, msgs []kafka.Message) {
	t.Helper()
	for len(msgs) > 0 {
		n := min(len(msgs), 5000)
		if err := w.WriteMessages(context.Background(), msgs[:n]...); err != nil {
			t.Fatalf("kafkatest: producing to %s: %v", w.Topic, err)
		}
		msgs = msgs[n:]
	}
}
