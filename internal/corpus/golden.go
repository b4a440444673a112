package corpus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Golden is one case of detector/testdata/golden (see its README): Term
// is the rule term its rule.json names; Input is its input.jsonl, or
// input.xml.txt for an XML case; Want is its want.jsonl, the oracle's
// line per input line.
type Golden struct{ Name, Term, Input, Want string }

// GoldenCases lists the cases under root, the path of
// detector/testdata/golden from the calling test's package. It fails t
// when there are none or a case's rule.json does not name a term.
func GoldenCases(t testing.TB, root string) []Golden {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	var out []Golden
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		var rule struct {
			Term string `json:"term"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "rule.json"))
		if err == nil {
			err = json.Unmarshal(data, &rule)
		}
		if err != nil || rule.Term == "" {
			t.Fatalf("%s: rule.json must name a term: %v", dir, err)
		}
		input := filepath.Join(dir, "input.jsonl")
		if _, err := os.Stat(input); err != nil {
			input = filepath.Join(dir, "input.xml.txt")
		}
		out = append(out, Golden{Name: filepath.Base(dir), Term: rule.Term, Input: input, Want: filepath.Join(dir, "want.jsonl")})
	}
	if len(out) == 0 {
		t.Fatalf("no golden cases under %s", root)
	}
	return out
}
