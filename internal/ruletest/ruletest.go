// Package ruletest builds compiled rules for tests: the embedded seed rule
// and variants of it with parts of its SPL replaced.
package ruletest

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/rules"
)

// The seed rule's SPL that variants commonly replace.
const (
	SeedTerm   = `TERM(msiexec) OR "msiexec.exe"`
	SeedParent = `(?i)(spoolsv|powershell|pwsh|cmd|svchost|winlogon|taskhost|wininit)\.exe`
)

// Seed compiles the embedded seed rule.
func Seed(t testing.TB) *rules.Compiled {
	t.Helper()
	c, err := rules.Compile(rules.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Variant compiles the seed rule with its id set to id (the seed's when
// "") and, for each pair (old, new), the first old in its logic replaced
// by new; it fails t when the logic has no old.
func Variant(t testing.TB, id string, pairs ...string) *rules.Compiled {
	t.Helper()
	seed := rules.Default()
	// A Rule built in code: its Logic is compiled as it stands.
	r := &rules.Rule{ID: seed.ID, Title: seed.Title, TechniqueIDs: seed.TechniqueIDs, Logic: seed.Logic, File: "(test variant)"}
	if id != "" {
		r.ID = id
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(r.Logic, pairs[i]) {
			t.Fatalf("the seed rule's logic has no %q", pairs[i])
		}
		r.Logic = strings.Replace(r.Logic, pairs[i], pairs[i+1], 1)
	}
	c, err := rules.Compile(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Term is the seed rule with its raw-text term replaced by TERM(term).
func Term(t testing.TB, term string) *rules.Compiled {
	t.Helper()
	if term == "" || term == "msiexec" {
		return Seed(t)
	}
	return Variant(t, "", SeedTerm, "TERM("+term+")")
}

// Catalog compiles, after the seed rule, the test rules of the repository:
// rules/testdata/catalog (five rules on Sysmon events 3, 7, 11, 13 and 22,
// written from ATT&CK techniques) and rules/testdata/noise (two rules that
// select the generator's ordinary events 3 and 7, one by the minute), so
// that a generated stream makes alerts of several rules.
func Catalog(t testing.TB) []*rules.Compiled {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("ruletest: no caller information")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "rules", "testdata")
	rs, err := rules.LoadPaths([]string{filepath.Join(root, "catalog"), filepath.Join(root, "noise")})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := rules.CompileAll(append([]*rules.Rule{rules.Default()}, rs...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
