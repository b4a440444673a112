// Package stream runs msiguard's rule over a Kafka consumer group: records
// in, alerts out, no alert lost across crashes and rebalances.
//
// A [Pipeline] joins the group through kafka-go's ConsumerGroup API with two
// topics, the input topic and an internal matches topic, and runs each
// assigned partition in its own goroutine:
//
//   - Stage A (input partitions) fetches batches (Conn.ReadBatch), runs each
//     record through the detector, writes every match to the matches topic
//     keyed by host, and every record the detector cannot evaluate or group
//     to the dead-letter topic with headers saying why and where it came
//     from. An input offset becomes committable once the brokers have
//     acknowledged everything produced from the records below it.
//
//   - Stage B (matches partitions) rebuilds the (host, second) buckets. The
//     matches topic is keyed by host, so a bucket's events all live in one
//     matches partition, whatever input partitions they came from: each
//     matches partition has its own window, owned by its goroutine, and two
//     group members can never build halves of one bucket. Alerts go to the
//     alerts topic (key alert_id, acks=all). A matches offset becomes
//     committable when no open or revisable bucket holds an event below it
//     and every alert emitted before is acknowledged. Before consuming,
//     stage B reads back the alerts published in the last RestoreLookback
//     and restores them into the windows, so that a replay from the
//     committed offsets re-emits nothing already published, and revises
//     (revision+1, complete union) what was published incomplete.
//
// When the generation ends (rebalance) or the context is cancelled
// (SIGTERM), every goroutine stops fetching, windows are flushed, the
// pipeline waits for the brokers to acknowledge every alert and match,
// commits what is safe, and only then lets the generation end. A crash
// loses nothing either: uncommitted records are read again, copies of
// matches are recognized by their input position, and restored alerts
// absorb the replayed events they already counted.
//
// DESIGN.md (section Pipeline) explains the choices; [Stats] holds the
// counters a metrics exporter can publish.
package stream
