package rules

import "testing"

// FuzzParse checks that any file content is parsed or refused with an
// error, and that compiling what parses never panics (positions mapped
// through YAML folding included).
func FuzzParse(f *testing.F) {
	f.Add(seedFile)
	f.Add([]byte("id: x\nlogic_format: Splunk\nlogic: |\n  a\n  | rex \"x\"\n"))
	f.Add([]byte("id: x\nlogic_format: Splunk\nlogic: \"a\\\n  \\\"b\\\" | fields x\"\n"))
	f.Add([]byte("id: x\nlogic_format: Splunk\nlogic: 'a ''q''\n\n  b | eval'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("f.yml", data)
		if err != nil {
			return
		}
		if c, err := Compile(r, nil); err != nil {
			_ = err.Error()
		} else {
			var b discard
			c.Explain(&b)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
