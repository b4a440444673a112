package kafkaio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// SASL mechanisms accepted by SASL.Mechanism.
const (
	SASLPlain       = "plain"
	SASLSCRAMSHA256 = "scram-sha-256"
	SASLSCRAMSHA512 = "scram-sha-512"
)

// DefaultDialTimeout is Cluster.DialTimeout's default.
const DefaultDialTimeout = 10 * time.Second

// ErrConfig is wrapped by every configuration error of this package, so a
// caller can tell a mistake in its settings from a broker problem.
var ErrConfig = errors.New("invalid configuration")

// FieldError is a configuration error about one field of a configuration
// struct (a Cluster's, or another package's config that uses this type),
// named as in Go ("Brokers", "SASL.Mechanism"): a program with its own
// names for them (cmd/msiguard's flags) says it in those. It wraps
// ErrConfig.
type FieldError struct {
	Field   string
	Problem string
	// Related names the other fields Problem mentions.
	Related []string
}

func (e *FieldError) Error() string { return "invalid configuration: " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrConfig) hold for a FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrConfig }

// Cluster says how to reach the brokers. The stream package uses it too, so
// consumer and producers connect the same way.
type Cluster struct {
	// Brokers are the bootstrap addresses, host:port. Required.
	Brokers []string
	// TLS enables TLS to the brokers when non-nil.
	TLS *tls.Config
	// SASL enables SASL authentication when SASL.Mechanism is set.
	SASL SASL
	// ClientID is sent to the brokers. Default "msiguard".
	ClientID string
	// DialTimeout bounds each connection attempt, TLS and SASL included.
	// Default 10s.
	DialTimeout time.Duration
	// Dial, when set, opens the TCP connections (TLS and SASL run on top of
	// it). Tests use it to cut a member off the network as a crash would;
	// it can also route through a proxy. Default: a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// SASL holds SASL credentials. The zero value disables SASL.
type SASL struct {
	// Mechanism is "plain", "scram-sha-256" or "scram-sha-512"; "" disables SASL.
	Mechanism string
	Username  string
	// Password is never logged: String masks it.
	Password string
}

// String describes s without its password.
func (s SASL) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return fmt.Sprintf("%s user=%q password=%s", s.Mechanism, s.Username, mask(s.Password))
}

func mask(secret string) string {
	if secret == "" {
		return "(empty)"
	}
	return "(set, masked)"
}

// Validate reports the first problem with c, or nil.
func (c *Cluster) Validate() error {
	if len(c.Brokers) == 0 {
		return &FieldError{Field: "Brokers", Problem: "none given: list host:port[,host:port...]"}
	}
	for _, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" || port == "" {
			return &FieldError{Field: "Brokers", Problem: fmt.Sprintf("address %q is not host:port", b)}
		}
	}
	if c.DialTimeout < 0 {
		return &FieldError{Field: "DialTimeout", Problem: fmt.Sprintf("%v is negative", c.DialTimeout)}
	}
	switch strings.ToLower(c.SASL.Mechanism) {
	case "":
		if c.SASL.Username != "" || c.SASL.Password != "" {
			return &FieldError{Field: "SASL.Mechanism", Problem: "empty although SASL.Username or SASL.Password is set: use plain, scram-sha-256 or scram-sha-512"}
		}
	case SASLPlain, SASLSCRAMSHA256, SASLSCRAMSHA512:
		if c.SASL.Username == "" {
			return &FieldError{Field: "SASL.Username", Problem: "empty: SASL mechanism " + c.SASL.Mechanism + " needs one"}
		}
		if c.SASL.Password == "" {
			return &FieldError{Field: "SASL.Password", Problem: "empty: SASL mechanism " + c.SASL.Mechanism + " needs one"}
		}
	default:
		return &FieldError{Field: "SASL.Mechanism", Problem: fmt.Sprintf("%q is unknown: use plain, scram-sha-256 or scram-sha-512", c.SASL.Mechanism)}
	}
	return nil
}

func (c *Cluster) clientID() string {
	if c.ClientID == "" {
		return "msiguard"
	}
	return c.ClientID
}

func (c *Cluster) dialTimeout() time.Duration {
	if c.DialTimeout == 0 {
		return DefaultDialTimeout
	}
	return c.DialTimeout
}

// Mechanism returns the kafka-go SASL mechanism, or nil without SASL.
func (c *Cluster) Mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(c.SASL.Mechanism) {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Mechanism{Username: c.SASL.Username, Password: c.SASL.Password}, nil
	case SASLSCRAMSHA256:
		m, err := scram.Mechanism(scram.SHA256, c.SASL.Username, c.SASL.Password)
		if err != nil {
			return nil, fmt.Errorf("%w: SASL %s: %v", ErrConfig, c.SASL.Mechanism, err)
		}
		return m, nil
	case SASLSCRAMSHA512:
		m, err := scram.Mechanism(scram.SHA512, c.SASL.Username, c.SASL.Password)
		if err != nil {
			return nil, fmt.Errorf("%w: SASL %s: %v", ErrConfig, c.SASL.Mechanism, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: unknown SASL mechanism %q", ErrConfig, c.SASL.Mechanism)
}

// Dialer returns a kafka-go Dialer for consumer-side connections (the
// consumer group coordinator and partition fetches).
func (c *Cluster) Dialer() (*kafka.Dialer, error) {
	d, _, err := c.Clients()
	return d, err
}

// Transport returns a kafka-go Transport for Writers and Clients.
func (c *Cluster) Transport() (*kafka.Transport, error) {
	_, tr, err := c.Clients()
	return tr, err
}

// Clients returns both, for the readers that fetch partitions with the
// Dialer and ask for metadata or offsets with the Transport. The error is
// Validate's or Mechanism's.
func (c *Cluster) Clients() (*kafka.Dialer, *kafka.Transport, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	m, err := c.Mechanism()
	if err != nil {
		return nil, nil, err
	}
	d := &kafka.Dialer{
		ClientID:      c.clientID(),
		Timeout:       c.dialTimeout(),
		DualStack:     true,
		TLS:           c.TLS,
		SASLMechanism: m,
		DialFunc:      c.Dial,
	}
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: c.dialTimeout(), KeepAlive: 30 * time.Second}).DialContext
	}
	tr := &kafka.Transport{
		Dial:        dial,
		DialTimeout: c.dialTimeout(),
		ClientID:    c.clientID(),
		TLS:         c.TLS,
		SASL:        m,
		MetadataTTL: 10 * time.Second,
	}
	return d, tr, nil
}

// Addr returns the brokers as a net.Addr for kafka-go Writers and Clients.
func (c *Cluster) Addr() net.Addr { return kafka.TCP(c.Brokers...) }
