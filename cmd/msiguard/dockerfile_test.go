package main

import (
	"bufio"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerIgnore is a .dockerignore file: patterns matched against a path
// relative to the build context, the last matching one deciding, a "!"
// pattern including again. A pattern matches a path or any of its parent
// directories; "**" matches any number of directories, "*" and "?" stay
// within one. This is the subset of Docker's rules the file uses (no
// character classes or escapes), checked by TestDockerIgnoreRules.
type dockerIgnore []struct {
	re      *regexp.Regexp
	include bool
}

func parseDockerIgnore(t *testing.T, text string) dockerIgnore {
	t.Helper()
	var d dockerIgnore
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		include := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/")
		if strings.ContainsAny(p, `[\`) {
			t.Fatalf(".dockerignore pattern %q uses syntax this test does not read", p)
		}
		var re strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString(`(?:.*/)?`)
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(`.*`)
				i++
			case p[i] == '*':
				re.WriteString(`[^/]*`)
			case p[i] == '?':
				re.WriteString(`[^/]`)
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		d = append(d, struct {
			re      *regexp.Regexp
			include bool
		}{regexp.MustCompile(`^` + re.String() + `$`), include})
	}
	return d
}

// excluded reports whether rel (slash-separated, relative to the context)
// stays out of the build context.
func (d dockerIgnore) excluded(rel string) bool {
	out := false
	for _, p := range d {
		for q := rel; ; {
			if p.re.MatchString(q) {
				out = !p.include
				break
			}
			i := strings.LastIndexByte(q, '/')
			if i < 0 {
				break
			}
			q = q[:i]
		}
	}
	return out
}

// TestDockerIgnoreRules pins the matcher to Docker's documented examples
// (docs.docker.com, "Build context", .dockerignore files) and to this
// repository's file.
func TestDockerIgnoreRules(t *testing.T) {
	d := parseDockerIgnore(t, "*/temp*\n*/*/temp*\ntemp?\n**/*.go.bak\n*.md\n!README*.md\n/bin\n")
	for path, want := range map[string]bool{
		"somedir/temporary.txt": true, "somedir/temp": true, "somedir/subdir/temporary.txt": true,
		"tempa": true, "tempab": false, "temp.txt/x": false, "a/b/c/x.go.bak": true, "x.go.bak": true,
		"CHANGES.md": true, "README.md": false, "README-x.md": false, "docs/a.md": false,
		"bin": true, "bin/tool": true, "cmd/bin": false,
	} {
		if got := d.excluded(path); got != want {
			t.Errorf("excluded(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestDockerfileBuildStage runs the Dockerfile's build stage without
// Docker: it copies the build context as .dockerignore shapes it, runs the
// stage's RUN lines there with a VERSION build argument (only /out, the
// image path of the result, is moved into a temporary directory), and
// checks what the final stage needs: a static binary (distroless/static
// has no libc) that runs as the ENTRYPOINT with the default CMD and
// reports VERSION. What only a Docker engine shows (the base images'
// contents, the non-root user, layer caching) is out of its reach.
func TestDockerfileBuildStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds msiguard from a copy of the build context")
	}
	df := string(mustRead(t, "../../Dockerfile"))
	ignore := parseDockerIgnore(t, string(mustRead(t, "../../.dockerignore")))
	ctx := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		if ignore.excluded(filepath.ToSlash(rel)) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(ctx, rel), 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(ctx, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"go.mod", "go.sum", "cmd/msiguard/main.go", "rules/macros.yml"} {
		if _, err := os.Stat(filepath.Join(ctx, must)); err != nil {
			t.Errorf(".dockerignore leaves %s out of the build context", must)
		}
	}
	for _, never := range []string{".git", "bench", "detector/testdata", "scripts"} {
		if _, err := os.Stat(filepath.Join(ctx, never)); err == nil {
			t.Errorf(".dockerignore lets %s into the build context", never)
		}
	}

	// The build stage: from its FROM to the next FROM.
	build, _, ok := strings.Cut(df[strings.Index(df, "\nFROM ")+1:], "\nFROM ")
	if !ok {
		t.Fatal("Dockerfile: want a build stage and a final stage")
	}
	out := filepath.Join(t.TempDir(), "out")
	const version = "v0.0.0-dockerfile-test"
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(build, "")
	ran := 0
	for _, line := range strings.Split(joined, "\n") {
		cmdline, ok := strings.CutPrefix(line, "RUN ")
		if !ok {
			continue
		}
		cmdline = strings.ReplaceAll(cmdline, "/out/", out+"/")
		cmd := exec.Command("sh", "-c", cmdline)
		cmd.Dir = ctx
		cmd.Env = append(os.Environ(), "VERSION="+version)
		began := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("RUN %s: %v\n%s", cmdline, err, b)
		}
		t.Logf("RUN %s (%v)", cmdline, time.Since(began).Round(time.Millisecond))
		ran++
	}
	if ran == 0 {
		t.Fatal("Dockerfile: the build stage has no RUN line")
	}

	bin := filepath.Join(out, "msiguard")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the build stage wrote no ELF binary at /out/msiguard: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader; distroless/static has none (CGO_ENABLED=0?)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v; distroless/static has no libc", libs)
	}
	f.Close()

	if b, err := exec.Command(bin, "version", "--short").Output(); err != nil || strings.TrimSpace(string(b)) != version {
		t.Errorf("version --short: %q, %v; want the VERSION build argument %q", b, err, version)
	}
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT \["(\S+)"\]\s*\nCMD \["(\S+)"\]`).FindStringSubmatch(df)
	if entry == nil {
		t.Fatal(`Dockerfile: want ENTRYPOINT ["binary"] followed by CMD ["arg"]`)
	}
	if b, err := exec.Command(bin, entry[2]).CombinedOutput(); err != nil || !strings.Contains(string(b), "Usage: msiguard") {
		t.Errorf("the image's default command (msiguard %s): %v\n%s", entry[2], err, b)
	}
}
