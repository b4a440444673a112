package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// version, when set at link time (go build -ldflags "-X main.version=v1.2.3",
// as the Dockerfile does), overrides the module version Go records.
var version string

// keyDeps are the dependencies whose versions matter when reporting a
// problem: the Kafka client, the in-process broker, the metrics library.
var keyDeps = []struct{ label, path string }{
	{"kafka-go", "github.com/segmentio/kafka-go"},
	{"kfake", "github.com/twmb/franz-go/pkg/kfake"},
	{"client_golang", "github.com/prometheus/client_golang"},
}

// buildInfo is what msiguard knows about its own build.
type buildInfo struct {
	Version   string // module version, "(devel)" for a plain go build
	Revision  string // VCS revision, "" when not recorded
	Time      string // VCS commit time, RFC 3339, "" when not recorded
	Modified  bool   // the working tree had uncommitted changes
	GoVersion string
	Platform  string // GOOS/GOARCH
	Deps      []dep
}

type dep struct{ label, path, version string }

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		b.GoVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	for _, k := range keyDeps {
		d := dep{label: k.label, path: k.path, version: "(not linked)"}
		if ok {
			for _, m := range bi.Deps {
				if m.Path != k.path {
					continue
				}
				d.version = m.Version
				if m.Replace != nil {
					d.version += " => " + m.Replace.Path + " " + m.Replace.Version
				}
			}
		}
		b.Deps = append(b.Deps, d)
	}
	return b
}

// short is the one-line form for logs and the demo banner.
func (b buildInfo) short() string {
	s := "msiguard " + b.Version
	if b.Revision != "" {
		s += " (" + shortRev(b.Revision)
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + b.GoVersion + " " + b.Platform
}

// LogValue makes the build information one structured log attribute.
func (b buildInfo) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("version", b.Version)}
	if b.Revision != "" {
		attrs = append(attrs, slog.String("revision", b.Revision), slog.Bool("modified", b.Modified))
	}
	attrs = append(attrs, slog.String("go", b.GoVersion))
	for _, d := range b.Deps {
		attrs = append(attrs, slog.String(d.label, d.version))
	}
	return slog.GroupValue(attrs...)
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// versionCommand is msiguard version.
func versionCommand(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("msiguard version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	short := fs.Bool("short", false, "print only the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: msiguard version [--short]")
			fmt.Fprintln(stdout, "\nPrints the version, the VCS revision and time when the build recorded them,")
			fmt.Fprintln(stdout, "the Go version and the versions of the Kafka libraries msiguard was built with.")
			return nil
		}
		return fmt.Errorf("%w: %v (see msiguard version --help)", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: msiguard version takes no arguments", errUsage)
	}
	b := readBuildInfo()
	if *short {
		fmt.Fprintln(stdout, b.Version)
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "msiguard %s\n", b.Version)
	row := func(k, v string) { fmt.Fprintf(&sb, "  %-14s %s\n", k, v) }
	if b.Revision != "" {
		rev := b.Revision
		if b.Modified {
			rev += " (modified)"
		}
		row("revision", rev)
	} else {
		row("revision", "not recorded (built without VCS information, e.g. -buildvcs=false or outside a git checkout)")
	}
	if b.Time != "" {
		row("commit time", b.Time)
	}
	row("go", b.GoVersion)
	row("platform", b.Platform)
	for _, d := range b.Deps {
		row(d.label, d.version)
	}
	_, err := io.WriteString(stdout, sb.String())
	return err
}
