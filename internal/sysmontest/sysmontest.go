// Package sysmontest keeps the import path the detector's tests describe
// their Sysmon events with. It renders nothing itself: an Event is
// sysmongen's, and Build writes it with the generator's renderers, the
// one Sysmon renderer in Go (scripts/oracle has an independent one, in
// Python).
//
// It imports only internal/sysmongen, which imports no msiguard package,
// so the detector's in-package tests may use it.
package sysmontest

import "github.com/msiguard/msiguard/internal/sysmongen"

// UtcTimeLayout is the layout of Sysmon's UtcTime field.
const UtcTimeLayout = sysmongen.UtcTimeLayout

// Event describes a Sysmon event independent of its shape; Build renders
// it in the shape named by detector.Shape.String.
type Event = sysmongen.Event
