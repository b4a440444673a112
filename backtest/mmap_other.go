//go:build !unix

package backtest

import "os"

// OpenFile opens a file to replay, read through Input.R (no memory mapping
// on this system). close closes the file; call it after the run.
func OpenFile(path string) (in Input, close func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, nil, err
	}
	in = Input{Name: path, R: f}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		in.Size = st.Size()
	}
	return in, f.Close, nil
}
