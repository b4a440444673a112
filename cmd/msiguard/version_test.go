package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestVersion checks that msiguard version names the Go version, the
// platform and the versions of kafka-go and kfake (the test binary links
// both, as msiguard does), and that -ldflags -X main.version wins.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"msiguard ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, "kafka-go ", "kfake ", "revision "} {
		if !strings.Contains(got, want) {
			t.Errorf("version output lacks %q:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		if f := strings.Fields(line); len(f) == 2 && (f[0] == "kafka-go" || f[0] == "kfake") && !strings.HasPrefix(f[1], "v") {
			t.Errorf("%s version %q is not a module version", f[0], f[1])
		}
	}

	old := version
	version = "v9.9.9-test"
	defer func() { version = old }()
	out.Reset()
	if err := run(context.Background(), []string{"version", "--short"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "v9.9.9-test" {
		t.Errorf("version --short = %q, want the -X main.version value", got)
	}
	if err := run(context.Background(), []string{"version", "extra"}, &out, &out); err == nil {
		t.Error("version with an argument succeeded, want a usage error")
	}
}
