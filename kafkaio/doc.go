// Package kafkaio is msiguard's one Kafka layer: how to reach the brokers
// (Cluster: addresses, TLS, SASL), what a broker error means for the
// caller (Classify, FatalError, IsRecordError), the one loop that reads a
// partition (Fetcher, with its backoff), fixed offset ranges of a topic
// (RangeReader), and the retry of startup calls (Retry). stream reads
// through it, sink writes through it, backtest's topic source adapts its
// RangeReader; detector, window and the backtest engine never import it.
//
// It imports kafka-go, internal/settings and the standard library only.
// Its errors name the Cluster fields and broker settings involved, never
// command-line flags: cmd/msiguard turns them into the operator's sentence.
package kafkaio
