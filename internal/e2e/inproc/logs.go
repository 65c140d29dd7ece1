package inproc

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"sync"
)

// EnvTestLog names the environment variable that, when not empty, copies
// every log record of the in-process sides to stderr.
const EnvTestLog = "BERTH_TEST_LOG"

// Logs captures the log records of the sides of a test (the server, the
// agents, the runtimes) as text at debug level, for the test to search;
// with BERTH_TEST_LOG set they go to stderr too. A nil *Logs captures
// nothing: its loggers write to stderr with BERTH_TEST_LOG set and discard
// otherwise.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if os.Getenv(EnvTestLog) != "" {
		os.Stderr.Write(p)
	}
	return l.buf.Write(p)
}

// String is everything captured so far.
func (l *Logs) String() string {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger is a debug-level text logger of one side (its records carry
// side=side).
func (l *Logs) Logger(side string) *slog.Logger {
	var w io.Writer = l
	if l == nil {
		if os.Getenv(EnvTestLog) == "" {
			return slog.New(slog.DiscardHandler)
		}
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", side)
}

// Logger is the logger of a side whose records no test searches: a nil
// *Logs's.
func Logger(side string) *slog.Logger { return (*Logs)(nil).Logger(side) }
