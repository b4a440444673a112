package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesExplain(t *testing.T) {
	var out, errw strings.Builder
	if err := run(context.Background(), []string{"rules", "explain", "../../rules/24143.44553.yml"}, &out, &errw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rule:              24143.44553", "prefilter tokens:  msiexec", "event id in {1}",
		"| regex parent_process_name=", "grouping:          bin span=1s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRulesCheck(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"rules", "check", "../../rules/testdata/catalog"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\nok ") + 1; n != 5 {
		t.Errorf("check printed %d rules:\n%s", n, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("id: x\nlogic_format: Splunk\nlogic: a | eval y=1\n"), 0o644)
	err := run(context.Background(), []string{"rules", "check", bad}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), bad+":3:12: unsupported command | eval") {
		t.Errorf("check of a bad rule: %v", err)
	}
	if err := run(context.Background(), []string{"rules", "nope"}, &out, &out); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: %v", err)
	}
}
