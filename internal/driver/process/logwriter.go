//go:build linux

package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logName is the name of log file number seq.
func logName(seq int) string { return fmt.Sprintf("%08d.log", seq) }

// listLogs returns the numbers of the log files in dir, ascending.
func listLogs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []int
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || len(num) != 8 {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			seqs = append(seqs, n)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// logWriter appends records to numbered, size-bounded files. A record is one
// write, so a reader never sees half of one once the write returns.
type logWriter struct {
	mu    sync.Mutex
	dir   string
	max   int64
	files int
	seq   int
	f     *os.File
	size  int64
	buf   []byte
	err   error // the first write error, for the shim's log
}

func openLogWriter(dir string, maxBytes int64, files int) (*logWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	seqs, err := listLogs(dir)
	if err != nil {
		return nil, err
	}
	w := &logWriter{dir: dir, max: maxBytes, files: max(files, 1), seq: 1}
	if len(seqs) > 0 {
		w.seq = seqs[len(seqs)-1]
	}
	w.f, err = os.OpenFile(filepath.Join(dir, logName(w.seq)), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := w.f.Stat(); err == nil {
		w.size = fi.Size()
	}
	return w, nil
}

// write appends one record, rotating first when it would not fit.
func (w *logWriter) write(stream string, partial bool, text []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return
	}
	w.buf = appendRecord(w.buf[:0], time.Now(), stream, partial, text)
	if w.size > 0 && w.size+int64(len(w.buf)) > w.max {
		w.rotate()
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
}

// rotate starts the next file, then deletes the files beyond the count. The
// next file is created only after the last write to the current one, so a
// reader that sees it knows the current file is complete.
func (w *logWriter) rotate() {
	next := w.seq + 1
	f, err := os.OpenFile(filepath.Join(w.dir, logName(next)), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return // keep the current file
	}
	w.f.Close()
	w.f, w.seq, w.size = f, next, 0
	seqs, _ := listLogs(w.dir)
	for _, s := range seqs {
		if s <= next-w.files {
			os.Remove(filepath.Join(w.dir, logName(s)))
		}
	}
}

func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	err := w.f.Close()
	w.f = nil
	return errors.Join(w.err, err)
}

// copyStream writes r's lines to w until r ends; lines longer than
// maxLineBytes are written in pieces flagged partial.
func copyStream(r io.Reader, stream string, w *logWriter) {
	br := bufio.NewReaderSize(r, maxLineBytes)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			w.write(stream, false, line[:len(line)-1])
		case errors.Is(err, bufio.ErrBufferFull):
			w.write(stream, true, line)
		default:
			if len(line) > 0 {
				w.write(stream, false, line)
			}
			return
		}
	}
}
