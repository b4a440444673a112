// Package window turns the detector's matched events into alerts, one per
// (host, second of event time), the way Splunk's
//
//	| bin span=1s | stats values(*) as * by _time, host
//
// does: per bucket, every field's distinct values sorted bytewise, within
// the caps of Config (MaxValues, MaxAlertBytes: values beyond are counted
// per field, see Field.Omitted); a field absent from every event of the
// bucket is absent from the alert. It is pure: no Kafka, no wall clock. Time comes from the events and
// from the clock the caller passes in (live mode), or from the input alone
// (backtest mode).
//
// # Buckets and alerts
//
// A bucket is keyed by host and floor(event time) in epoch seconds. It holds
// the distinct values of each field of Config.Fields, the event count, the
// first and last event times, and the sources of its events (up to
// Config.MaxSources are listed; the rest are counted). Emitting a bucket
// produces an Alert (its JSON is specified in the README's section "The
// alert contract"). The alert_id depends only on the rule, the host and the
// second, so a bucket emitted again after more events arrived carries the
// same alert_id, revision+1 and the complete union
// of its values: a revision never holds fewer values than an earlier one.
//
// # When a bucket is emitted
//
// An open bucket is emitted at the first of:
//
//   - its host's own event time passes the bucket's end by Config.Grace:
//     an event of the same host, added after the bucket's last event, is at
//     or after second+1+Grace. A host whose clock runs hours ahead only
//     emits its own buckets.
//   - it has been idle for Config.IdleTimeout on the window's clock: no
//     event was added to it for that long. This emits the rare matches (most
//     hosts never match; some match once a day) and everything when the
//     topic goes quiet, within about IdleTimeout of their last event.
//   - Flush: shutdown, partition revocation, end of a backtest.
//
// The window's clock is, in live mode, the now the caller passes to Add and
// Advance (never moving back). In backtest mode there is no clock: the window
// uses the input's event-time watermark, the third-highest per-host maximum
// of event time seen so far. It depends only on the input order, so the same
// input gives the same output bytes, and up to two hosts whose clocks run
// ahead cannot move it.
//
// # Late events
//
// An emitted bucket stays revisable for Config.Retain on the window's clock
// after its latest emission; it is forgotten earlier, oldest first, when
// Config.RetainBuckets or Config.MemoryBudget is reached. An event for a revisable bucket
// reopens it; it is emitted again, by the same rules, as the next revision.
// Once forgotten, a bucket leaves its second as its host's horizon; an event
// of that host at or before the horizon that finds no open or revisable
// bucket is late: it goes to a late bucket, emitted with "late": true,
// revisions of its own and an alert_id of its own (see LateAlertID), so that
// it never replaces the complete on-time alert. Late events and alerts are
// counted in Stats. Nothing is dropped silently; the only events dropped are
// those without a host (Splunk drops them too), counted in Stats.NoHost.
//
// # Restarts
//
// SafePositions returns, per source partition, the lowest position still
// held by an open or revisable bucket. A caller that commits it, and after a
// crash restores the published alerts (Restore) and replays from it, rebuilds
// every bucket complete; buckets whose replay adds nothing to the restored
// alert are not emitted again.
//
// # Ownership
//
// A Window is owned by one goroutine. The emit callback runs synchronously
// inside Add, Advance and Flush; the *Alert it gets is reused after it
// returns (Alert.Clone keeps one). The window copies the distinct values and
// host names it keeps and never retains Event.Values.
package window
