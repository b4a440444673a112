package kafkatest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestSASLAndTLS connects kafka-go to kfake with SASL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512), with and without TLS: the right credentials produce and
// consume, wrong ones fail at the first request. The error texts are logged
// (go test -v) and pinned loosely, so a kafka-go or kfake upgrade that
// changes them shows up here.
func TestSASLAndTLS(t *testing.T) {
	for _, mech := range []string{kafkatest.Plain, kafkatest.ScramSHA256, kafkatest.ScramSHA512} {
		for _, useTLS := range []bool{false, true} {
			name := mech
			if useTLS {
				name += "+TLS"
			}
			t.Run(name, func(t *testing.T) {
				opts := []kafkatest.Option{kafkatest.WithSASL(mech, "msiguard", "s3cret")}
				if useTLS {
					opts = append(opts, kafkatest.WithTLS())
				}
				c := kafkatest.Start(t, opts...)
				if c.SASL() == nil || (c.TLSConfig() != nil) != useTLS {
					t.Fatalf("SASL %v, TLS %v", c.SASL(), c.TLSConfig())
				}
				rightCredentials(t, c)

				wrong, err := kafkatest.Mechanism(mech, "msiguard", "wrong")
				if err != nil {
					t.Fatal(err)
				}
				// kfake rejects bad credentials by closing the connection;
				// kafka-go's Dialer maps that EOF to SASLAuthenticationFailed.
				err = dialErr(c, wrong, c.TLSConfig())
				t.Logf("Dialer, wrong password: %v", err)
				if !errors.Is(err, kafka.SASLAuthenticationFailed) {
					t.Fatalf("Dialer with a wrong password: %v, want SASLAuthenticationFailed", err)
				}
				noUser, _ := kafkatest.Mechanism(mech, "nobody", "s3cret")
				err = dialErr(c, noUser, c.TLSConfig())
				t.Logf("Dialer, unknown user: %v", err)
				if !errors.Is(err, kafka.SASLAuthenticationFailed) {
					t.Fatalf("Dialer with an unknown user: %v, want SASLAuthenticationFailed", err)
				}
				err = writeErr(t, c, wrong, c.TLSConfig())
				// The Transport (Writer, Client) only maps io.EOF, and it
				// reads io.ErrUnexpectedEOF here: no SASL error type at all.
				t.Logf("Writer, wrong password: %v", err)
				if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, kafka.SASLAuthenticationFailed) {
					t.Fatalf("Writer with a wrong password: %v", err)
				}
				err = dialErr(c, nil, c.TLSConfig())
				t.Logf("Dialer, no SASL at all: %v", err)
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatal("Dialer without SASL on a SASL cluster: no error")
				}
				if useTLS {
					// A client that does not trust the test certificate.
					err = dialErr(c, c.SASL(), &tls.Config{MinVersion: tls.VersionTLS12})
					t.Logf("Dialer, untrusted certificate: %v", err)
					if err == nil || !strings.Contains(err.Error(), "certificate") {
						t.Fatalf("Dialer with an untrusted certificate: %v", err)
					}
				}
			})
		}
	}
}

// rightCredentials creates a topic, produces and reads back over the
// cluster's own Dialer and Transport.
func rightCredentials(t *testing.T, c *kafkatest.Cluster) {
	t.Helper()
	topic := kafkatest.UniqueName(t, "auth")
	c.CreateTopic(t, topic, 1)
	produce(t, c, topic, "auth", 10, kafka.Zstd, nil)
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Addrs(), Dialer: c.Dialer(), Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 10; i++ {
		if _, err := r.ReadMessage(ctx); err != nil {
			t.Fatalf("ReadMessage %d: %v", i, err)
		}
	}
}

func dialErr(c *kafkatest.Cluster, mech sasl.Mechanism, tc *tls.Config) error {
	d := c.Dialer()
	d.TLS = tc
	d.SASLMechanism = mech
	d.Timeout = 5 * time.Second
	conn, err := d.Dial("tcp", c.Addrs()[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	// Without SASL the dial succeeds; the first real request fails.
	_, err = conn.ReadPartitions()
	return err
}

func writeErr(t *testing.T, c *kafkatest.Cluster, mech sasl.Mechanism, tc *tls.Config) error {
	tr := c.Transport(t)
	tr.SASL = mech
	tr.TLS = tc
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Addrs()...),
		Topic:        kafkatest.UniqueName(t, "denied"),
		RequiredAcks: kafka.RequireAll,
		MaxAttempts:  1,
		Transport:    tr,
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Logf("(the write timed out)")
	}
	return err
}
