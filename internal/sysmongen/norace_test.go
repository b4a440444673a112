//go:build !race

package sysmongen

const raceEnabled = false
