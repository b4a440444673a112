// Package sink writes msiguard's output to Kafka and says how to reach the
// brokers.
//
// A [Producer] owns one kafka-go Writer (acks=all) behind a bounded queue:
// [Producer.Send] blocks while the queue is full, so a slow or unavailable
// topic slows its callers down instead of growing memory; transient errors
// are retried with exponential backoff for as long as it takes, and records
// are never dropped. Records to one partition keep their Send order across
// retries: a failed call is retried before anything sent after it, and a
// call never holds two batches for one partition. [Producer.Barrier] and
// [Producer.Flush] tell a caller when everything it sent earlier has been
// acknowledged, which is what makes an offset safe to commit.
//
// Errors no retry can fix (bad credentials, missing ACLs, untrusted
// certificates, oversized records) stop the producer with a
// [*kafkaio.FatalError] whose message says what to change. [RawWriter]
// writes records as they are given (msiguard gen and the demo).
//
// How to reach the brokers (kafkaio.Cluster) and what their errors mean
// (kafkaio.Classify) are package kafkaio's. sink imports kafkaio,
// internal/settings and kafka-go, and no other msiguard package.
package sink
