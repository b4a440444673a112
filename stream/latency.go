package stream

import (
	"sync/atomic"
	"time"

	"github.com/msiguard/msiguard/window"
)

// EmissionDelayBuckets are the upper bounds, in seconds, of the buckets of
// the histogram EmissionDelays returns.
var EmissionDelayBuckets = []float64{0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 1800, 3600}

// Histogram is a snapshot of a histogram with fixed buckets.
type Histogram struct {
	// Bounds are the buckets' upper bounds (inclusive); Counts[i] is the
	// number of observations at most Bounds[i] (cumulative, as Prometheus
	// has it). Observations above the last bound count only in Count.
	Bounds []float64
	Counts []uint64
	Count  uint64
	// Sum is the sum of the observations, in the Bounds' unit.
	Sum float64
}

// delays is the emission delay histogram: per bucket (non-cumulative, the
// last slot above every bound), a count, and the sum in nanoseconds.
type delays struct {
	counts [16]atomic.Uint64
	sumNs  atomic.Int64
}

// observeAlert records the emission delay of an alert emitted at now: the
// wall-clock time from the end of its bucket's second (Sysmon event time)
// to the emission. Only first emissions of on-time alerts are observed:
// revisions and late alerts are delayed by their late events, not by the
// pipeline. A bucket from the future (clock skew) counts as zero.
func (d *delays) observeAlert(a *window.Alert, now time.Time) {
	if a.Revision != 1 || a.Late {
		return
	}
	delay := max(now.Sub(time.Unix(a.Time+1, 0)), 0)
	sec := delay.Seconds()
	i := 0
	for i < len(EmissionDelayBuckets) && sec > EmissionDelayBuckets[i] {
		i++
	}
	d.counts[i].Add(1)
	d.sumNs.Add(int64(delay))
}

// EmissionDelays returns the histogram of alert emission delays, in
// seconds: for each alert emitted for the first time and not late, the
// wall-clock time from the end of its bucket (the second after Alert.Time)
// to its emission. It covers the shippers' delay, the time records wait in
// Kafka, and the window's grace and idle timeout. Replaying old records
// gives delays as old as the records.
func (p *Pipeline) EmissionDelays() Histogram {
	h := Histogram{
		Bounds: append([]float64(nil), EmissionDelayBuckets...),
		Counts: make([]uint64, len(EmissionDelayBuckets)),
		Sum:    time.Duration(p.delays.sumNs.Load()).Seconds(),
	}
	var cum uint64
	for i := range EmissionDelayBuckets {
		cum += p.delays.counts[i].Load()
		h.Counts[i] = cum
	}
	h.Count = cum + p.delays.counts[len(EmissionDelayBuckets)].Load()
	return h
}
