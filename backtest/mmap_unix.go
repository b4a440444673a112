//go:build unix

package backtest

import (
	"fmt"
	"os"
	"syscall"
)

// OpenFile opens a file to replay. A regular file is mapped into memory
// (Input.Data) so that blocks are read in place, without the copy a read
// makes; anything else (a pipe, a device, an empty file) is read through
// Input.R. close releases the mapping and the file; call it after the run.
// A mapped file must not be truncated during the run (reading a truncated
// mapping faults); appending is harmless, the run reads the size seen here.
func OpenFile(path string) (in Input, close func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, nil, err
	}
	in = Input{Name: path, R: f}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || int64(int(st.Size())) != st.Size() {
		if err == nil && st.Mode().IsRegular() {
			in.Size = st.Size()
		}
		return in, f.Close, nil
	}
	in.Size = st.Size()
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return in, f.Close, nil // read it instead
	}
	in.Data = data
	return in, func() error {
		merr := syscall.Munmap(data)
		if cerr := f.Close(); cerr != nil {
			return cerr
		}
		if merr != nil {
			return fmt.Errorf("unmapping %s: %w", path, merr)
		}
		return nil
	}, nil
}
