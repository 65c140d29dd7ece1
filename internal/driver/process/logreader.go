//go:build linux

package process

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// logStream reads a container's log files in order. It holds one file at a
// time; a file is complete once a higher-numbered one exists, and a file
// deleted by rotation before the reader reached it is skipped.
type logStream struct {
	ctx    context.Context
	cancel context.CancelFunc
	dir    string
	follow bool
	poll   time.Duration
	exited func() bool // whether the container is done writing

	mu      sync.Mutex
	f       *os.File
	r       *bufio.Reader
	seq     int    // number of f, or of the last file read
	final   bool   // a later file exists, so f is complete
	sawExit bool   // the container was done when the reader last caught up
	pending []byte // a record read in pieces
	closed  bool
}

// Next returns the next line, io.EOF at the end, or the context's error.
func (s *logStream) Next() (driver.LogLine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed {
			return driver.LogLine{}, io.EOF
		}
		if err := s.ctx.Err(); err != nil {
			return driver.LogLine{}, err
		}
		if s.f != nil {
			chunk, err := s.r.ReadSlice('\n')
			s.pending = append(s.pending, chunk...)
			switch {
			case err == nil:
				line, _, perr := parseRecord(s.pending[:len(s.pending)-1])
				s.pending = s.pending[:0]
				if perr == nil {
					return line, nil
				}
				continue // not a record: skip it
			case errors.Is(err, bufio.ErrBufferFull):
				continue
			case !errors.Is(err, io.EOF):
				return driver.LogLine{}, err
			}
			if !s.final {
				next, err := s.nextSeq()
				if err != nil {
					return driver.LogLine{}, err
				}
				if next > 0 {
					s.final = true // read to the end once more: nothing is added now
					continue
				}
			} else {
				s.f.Close()
				s.f, s.r, s.pending = nil, nil, s.pending[:0]
			}
		}
		if s.f == nil {
			opened, err := s.openNext()
			if err != nil {
				return driver.LogLine{}, err
			}
			if opened {
				continue
			}
		}
		// Caught up with the writer.
		if !s.follow || s.sawExit {
			return driver.LogLine{}, io.EOF
		}
		if s.exited() {
			s.sawExit = true // one more pass for what was written before the exit
			continue
		}
		select {
		case <-s.ctx.Done():
		case <-time.After(s.poll):
		}
	}
}

// nextSeq is the lowest file number above s.seq, or 0.
func (s *logStream) nextSeq() (int, error) {
	seqs, err := listLogs(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, n := range seqs {
		if n > s.seq {
			return n, nil
		}
	}
	return 0, nil
}

// openNext opens the lowest-numbered file above s.seq; false when none.
func (s *logStream) openNext() (bool, error) {
	for {
		next, err := s.nextSeq()
		if err != nil || next == 0 {
			return false, err
		}
		f, err := os.Open(filepath.Join(s.dir, logName(next)))
		if errors.Is(err, fs.ErrNotExist) {
			s.seq = next // rotated away meanwhile
			continue
		}
		if err != nil {
			return false, err
		}
		s.f, s.r, s.seq, s.final = f, bufio.NewReaderSize(f, 64<<10), next, false
		return true, nil
	}
}

// Close ends the stream; a blocked Next returns.
func (s *logStream) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f, s.r = nil, nil
	}
	s.closed = true
	return nil
}
