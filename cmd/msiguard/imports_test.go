package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/msiguard/msiguard/"

// mayImport is DESIGN.md's map of the packages: the msiguard packages each
// may import. A package may import fewer; one missing here must be added
// to the map first. Some entries anticipate the compiled-rules change
// (detector on rules, rules on window, internal/ruletest).
var mayImport = map[string][]string{
	"cmd/msiguard": {"backtest", "backtest/topicsource", "detector", "internal/deadletter", "internal/devbroker",
		"internal/metrics", "internal/sysmongen", "kafkaio", "rules", "sink", "stream", "window"},
	"bench/threeway":       {},
	"internal/metrics":     {"detector", "stream"},
	"stream":               {"detector", "internal/deadletter", "kafkaio", "rules", "sink", "window"},
	"sink":                 {"kafkaio"},
	"kafkaio":              {},
	"backtest/topicsource": {"backtest", "kafkaio"},
	"backtest":             {"detector", "internal/deadletter", "rules", "window"},
	"detector":             {"rules", "rules/cim", "rules/segment", "rules/spl", "rules/tokenscan"},
	"rules":                {"rules/cim", "rules/segment", "rules/spl", "rules/tokenscan", "window"},
	"rules/tokenscan":      {"rules/segment", "rules/spl"},
	"rules/spl":            {"rules/cim", "rules/segment"},
	"rules/cim":            {},
	"rules/segment":        {},
	"window":               {},
	"internal/settings":    {},
	"internal/deadletter":  {},
	"internal/devbroker":   {},
	"internal/sysmongen":   {},
	// Test support.
	"internal/corpus":     {},
	"internal/kafkatest":  {},
	"internal/ruletest":   {"rules"},
	"internal/sysmontest": {"internal/sysmongen"},
	"stream/streamtest":   {"detector", "internal/sysmongen", "kafkaio", "rules", "window"},
}

// anyMayImport may be imported by every package (DESIGN.md: "its arrows
// are left out").
var anyMayImport = []string{"internal/settings"}

// Only these import a Kafka client (kafka-go) or the kfake broker directly.
var (
	kafkaClients = []string{"kafkaio", "sink", "stream", "internal/kafkatest", "stream/streamtest", "bench/threeway"}
	kfakeUsers   = []string{"internal/devbroker", "internal/kafkatest"}
	// noKafka may not depend on a Kafka client or broker at all, through
	// any chain of imports.
	noKafka = []string{"detector", "window", "backtest", "rules", "rules/spl", "rules/cim", "rules/segment",
		"rules/tokenscan", "internal/deadletter", "internal/settings", "internal/sysmongen"}
)

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestImportMap holds the module to DESIGN.md's map of the packages.
func TestImportMap(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], module), fields[1:]
		allowed, ok := mayImport[pkg]
		if !ok {
			t.Errorf("package %s is not in DESIGN.md's map (and mayImport): add it with what it may import", pkg)
			continue
		}
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, module):
				if dep := strings.TrimPrefix(imp, module); !slices.Contains(allowed, dep) && !slices.Contains(anyMayImport, dep) {
					t.Errorf("%s imports %s, which the map does not allow", pkg, dep)
				}
			case strings.HasPrefix(imp, "github.com/segmentio/kafka-go"):
				if !slices.Contains(kafkaClients, pkg) {
					t.Errorf("%s imports %s: only %v speak Kafka", pkg, imp, kafkaClients)
				}
			case strings.HasPrefix(imp, "github.com/twmb/franz-go"):
				if !slices.Contains(kfakeUsers, pkg) {
					t.Errorf("%s imports %s: only %v run the kfake broker", pkg, imp, kfakeUsers)
				}
			}
		}
	}
	for _, p := range noKafka {
		for _, dep := range goList(t, "-deps", "-f", "{{.ImportPath}}", "./"+p) {
			if strings.Contains(dep, "segmentio/kafka-go") || strings.Contains(dep, "twmb/franz-go") {
				t.Errorf("%s depends on %s: it may use no Kafka client", p, dep)
			}
		}
	}
}
