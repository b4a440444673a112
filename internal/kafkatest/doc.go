// Package kafkatest gives every integration test in msiguard (stream/, sink/,
// cmd/) one way to get a Kafka broker:
//
//	c := kafkatest.Start(t)                         // kfake in-process, or KAFKA_BROKERS
//	topic := kafkatest.UniqueName(t, "sysmon")      // unique per test and run
//	c.CreateTopic(t, topic, 4)                      // waits until every partition has a leader
//	w := &kafka.Writer{Addr: kafka.TCP(c.Addrs()...), Topic: topic, Transport: c.Transport(t)}
//	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Addrs(), Dialer: c.Dialer(), ...})
//
// Without KAFKA_BROKERS, Start runs franz-go's kfake (github.com/twmb/franz-go/pkg/kfake)
// on 127.0.0.1 with one broker (Brokers(n) for more), auto topic creation on and
// DefaultPartitions partitions; t.Cleanup closes it. With KAFKA_BROKERS=host:port[,...]
// (see scripts/kafka.sh, which runs Apache Kafka 4.1 in KRaft mode and .ci/run uses),
// Start uses that broker instead. The broker is then shared by every test and
// every package: name topics and groups with UniqueName, never a constant.
// Tests that need kfake itself are skipped on a real broker: fault
// injection through Fake().ControlKey (pass WithFaults), WithSASL and
// WithTLS. Brokers(n) is ignored there.
//
// # kafka-go v0.4.51 against kfake and Apache Kafka 4.1.2
//
// Checked by this package's tests, on both brokers unless marked:
//
//   - kafka.Writer, RequiredAcks RequireAll, Compression none, gzip, snappy,
//     lz4 and zstd, headers, explicit Message.Time: works.
//   - kafka.Reader on one partition (no GroupID), Dialer.DialLeader +
//     Conn.Seek + Conn.ReadBatch: works.
//   - kafka.NewConsumerGroup with two members, Generation.Start per assigned
//     partition (a partition Reader inside), Generation.CommitOffsets, and
//     kafka.Client.OffsetFetch from a third client: works, also with three
//     kfake brokers (coordinator and leaders on different brokers).
//   - Conn.CreateTopics sent to Conn.Controller(): works on both (kfake's
//     controller is its last broker).
//   - Offsets by time: Conn.ReadOffset(t), Reader.SetOffsetAt(ctx, t) and
//     Client.ListOffsets with kafka.TimeOffsetOf: work, return the first
//     offset whose timestamp is >= t.
//   - SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, with and without TLS (kfake
//     only): kafka-go's sasl/plain and sasl/scram connect with the right
//     credentials and are refused with wrong ones.
//
// What to know, with the workaround:
//
//   - ConsumerGroup.Next returns transient errors, not only final ones: "[27]
//     Rebalance In Progress" while another member joins (both brokers), and
//     "[15] Group Coordinator Not Available" for the first group on a fresh
//     real broker, until __consumer_offsets exists. Keep calling Next; only
//     kafka.ErrGroupClosed or a done context end the loop.
//   - Generation.CommitOffsets is one OffsetCommit round trip to the
//     coordinator (10-20 ms here on either broker): committing each message
//     made a 400-message test take 4-10 s. Commit the latest offsets from a
//     ticker started with Generation.Start (see kafkatest_test.go).
//   - Conn.ReadOffset(t) with t after the last record returns -1 and no
//     error (KIP-79 "no such record"): treat -1 as "start at the end"
//     (Conn.ReadLastOffset).
//   - Client.ListOffsets: PartitionOffsets.Offsets maps the found offset to
//     the time you ASKED for, not the record's timestamp (kafka-go's
//     listoffsets Response.Merge overwrites it). FirstOffset is pre-set to 0
//     for a FirstOffsetOf and filled in from the broker only when that is the
//     partition's sole request in the call (kafka-go issue #620): ask for the
//     first and last offsets of a partition in separate calls, or use
//     Conn.ReadOffsets.
//   - Kafka 4 rejects records whose CreateTime is more than
//     log.message.timestamp.after.max.ms (default 1h) in the future: "[32]
//     Invalid Timestamp". kfake accepts any timestamp. Old timestamps are
//     fine on both.
//   - Writer.WriteMessages returns kafka.WriteErrors, which errors.Is does not
//     unwrap: errors.As into kafka.WriteErrors and look at each element.
//   - Writer.AllowAutoTopicCreation works on kfake at once but on real Kafka a
//     write to a new topic fails with "[3] Unknown Topic Or Partition" until
//     the broker has made it: create topics first with CreateTopic.
//   - Writer's BatchTimeout (default 1 s) is waited out by every synchronous
//     WriteMessages that does not fill a batch: set it to a few ms in tests.
//   - Conn.CreateTopics swallows TOPIC_ALREADY_EXISTS; CreateTopic instead
//     fails the test when the topic exists with another partition count.
//   - Both brokers refuse group session timeouts below 6 s by default
//     (group.min.session.timeout.ms): lower kfake's with
//     FakeOptions(kfake.GroupMinSessionTimeout(d)) and scripts/kafka.sh's with
//     KAFKA_EXTRA_CONFIG=group.min.session.timeout.ms=1000, or keep 6 s.
//
// Wrong SASL credentials (kfake closes the connection on a failed
// SaslAuthenticate instead of answering it):
//
//   - kafka.Dialer (Conn, Reader, ConsumerGroup): "could not successfully
//     authenticate to 127.0.0.1:PORT with SASL: [58] SASL Authentication
//     Failed: SASL Authentication failed" — errors.Is(err,
//     kafka.SASLAuthenticationFailed), for a wrong password and an unknown
//     user alike, every mechanism.
//   - kafka.Transport (Writer, Client): "unexpected EOF" (io.ErrUnexpectedEOF):
//     the Transport maps only io.EOF to SASLAuthenticationFailed.
//   - No SASL against a SASL cluster: the dial succeeds, the first request
//     fails with "EOF".
//   - TLS client that does not trust the certificate: "failed to dial: tls:
//     failed to verify certificate: x509: certificate signed by unknown
//     authority".
//
// Set KAFKATEST_LOG=debug (or info, warn, error) to see kfake's own log.
//
// It imports kafka-go and franz-go (kfake, kmsg), and no msiguard package;
// only tests import it.
package kafkatest
