package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// partialSuffix is appended to an output file's name for what a failed or
// interrupted run wrote.
const partialSuffix = ".partial"

// outFile is an output file written under a temporary name in the same
// directory and renamed into place only when the run succeeded, so that a
// failed or interrupted run never leaves a truncated file where the last
// results were. The zero value, and one for "-" or "", write elsewhere
// (w) and have nothing to rename.
type outFile struct {
	flag string // --out, --dlq, --summary-json: for messages
	name string // the final name; "" when w is not a file of ours
	tmp  *os.File
	w    io.Writer
	done bool
}

// createOut opens name for writing: "-" is stdout, "" nowhere, anything
// else a temporary file beside name.
func createOut(flag, name string, stdout io.Writer) (*outFile, error) {
	switch name {
	case "-":
		return &outFile{flag: flag, w: stdout}, nil
	case "":
		return &outFile{flag: flag, w: io.Discard}, nil
	}
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%w: %s %s is a directory", errUsage, flag, name)
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return &outFile{flag: flag, name: name, tmp: f, w: f}, nil
}

// commit closes the file and renames it into place.
func (o *outFile) commit() error {
	if o == nil || o.tmp == nil || o.done {
		return nil
	}
	o.done = true
	err := o.tmp.Close()
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.name)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("%s %s: %w", o.flag, o.name, err)
	}
	return nil
}

// keepPartial closes the file after a failure and keeps what it holds as
// name.partial, leaving name as it was. It returns that name, or "" when
// nothing had been written (the temporary file is then removed).
func (o *outFile) keepPartial() string {
	if o == nil || o.tmp == nil || o.done {
		return ""
	}
	o.done = true
	o.tmp.Close()
	if st, err := os.Stat(o.tmp.Name()); err != nil || st.Size() == 0 {
		os.Remove(o.tmp.Name())
		return ""
	}
	partial := o.name + partialSuffix
	if err := os.Rename(o.tmp.Name(), partial); err != nil {
		return o.tmp.Name()
	}
	return partial
}
