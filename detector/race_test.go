//go:build race

package detector

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// pooled paths allocate under -race by design.
const raceEnabled = true
