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
// certificates, oversized records) stop the producer with a [*kafkaio.FatalError]
// whose message says what to change; [Classify] recognizes them for the
// consumer side too.
//
// [Cluster] holds the broker addresses, TLS and SASL settings (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512) and builds kafka-go Dialers and Transports;
// its String forms never include the password.
package sink
