// Package backtest replays recorded Sysmon events through the detector and
// the window in backtest mode: from files (JSON lines or raw XML lines, plain
// or compressed with gzip, zstd, xz or bzip2) or from a bounded offset range of a Kafka topic. It is the engine
// of `msiguard backtest`.
//
// # Determinism
//
// Nothing here reads a clock to decide anything. The window runs in backtest
// mode, where emission depends only on the order of its input, and the
// engine feeds it in an order fixed by the input alone: files in the order
// given, lines in file order; topic records merged across partitions by
// (record timestamp, partition, offset). Detection runs in parallel but its
// results are applied to the window strictly in input order. So the same
// input gives byte-identical alerts and dead letters. Only the Summary's
// timing fields and the progress line measure wall time.
//
// # Output
//
// By default each alert_id is written once, with its final content, and the
// alerts are sorted by (_time, host), on-time before late, then alert_id:
// finals are collected in memory until the input ends (alerts are rare:
// one per host and second with a match). With Config.EmitRevisions every
// revision is written as the window emits it, in emission order.
//
// Dead letters are records that passed the prefilter but that the detector
// could not evaluate (malformed, unknown_shape) or could not group
// (missing_host, bad_time); see [DeadLetter] for the JSON line written for
// each.
//
// # Speed
//
// The file path is built so that the per-record cost of the ~99.9% of
// records that cannot match is one pass of [detector.Detector.Prefilter]
// over their bytes, run over whole blocks rather than line by line:
//
//   - one reader goroutine cuts the input into blocks of about
//     Config.BlockSize (4 MiB) ending after a '\n': slices of the file
//     itself when OpenFile mapped it into memory (no copy), else reads into
//     pooled buffers, carrying each block's unterminated tail over to the
//     next (a compressed file, recognized by its magic bytes, goes through
//     its decompressor in this goroutine, so decompression overlaps
//     detection: klauspost/compress for gzip and zstd, ulikunitz/xz for xz,
//     the standard library for bzip2); a file whose first 64 KiB are not
//     text (a binary or unrecognized format, UTF-16) is refused, since
//     replaying it would find nothing and say nothing;
//   - one worker per core runs the prefilter over sub-blocks of about 16 KiB
//     (the prefilter treats '\n' as a breaker, so a sub-block hits exactly
//     when one of its lines does), looks at single lines only inside a
//     sub-block that hit, evaluates only the lines that hit, and counts
//     newlines with bytes.Count only to number those lines and the block;
//   - the caller's goroutine is the sequencer: it applies the blocks'
//     results to the window in block order and writes the output.
//
// Memory is bounded by the block pool (Workers+3 buffers); allocation is per
// block and per hit, never per record. BENCHMARKS.md has the figures: about
// 6 GB/s on the project's 2 cores over real recordings in the page cache,
// four times `grep -ci msiexec`.
//
// # Topics
//
// RunTopic reads a RecordSource (topicsource.Source: fixed offset ranges,
// no consumer group) and merges its partitions by (record timestamp,
// partition, offset) into batches of Config.BatchRecords records, which the
// same workers and sequencer process; a record's source in alerts and dead
// letters is its topic, partition and offset.
package backtest
