package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout marks a wait that gave up: a result (how far it got), not a
// failure of the bench.
var ErrTimeout = errors.New("timed out")

// Cleanups runs registered functions in reverse order, once.
type Cleanups struct {
	mu  sync.Mutex
	fns []func()
}

// Add registers fn.
func (c *Cleanups) Add(fn func()) {
	c.mu.Lock()
	c.fns = append(c.fns, fn)
	c.mu.Unlock()
}

// Run runs what was registered, the last first, and forgets it.
func (c *Cleanups) Run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Interrupts returns two contexts: soft ends at the first Ctrl-C (or
// SIGTERM), after printing first; hard at the second, after printing
// second (an empty message prints nothing). A bench ends its measurement
// with soft and gives up waiting for its clean-up with hard; stop releases
// both.
func Interrupts(first, second string) (soft, hard context.Context, stop func()) {
	soft, cancel := context.WithCancel(context.Background())
	hard, hardCancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	say := func(msg string) {
		if msg != "" {
			fmt.Fprintln(os.Stderr, "\n"+msg)
		}
	}
	go func() {
		<-sigs
		say(first)
		cancel()
		<-sigs
		say(second)
		hardCancel()
	}()
	return soft, hard, func() { cancel(); hardCancel() }
}

// WriteReport prints the text report and the Markdown block to stdout and,
// when out is not empty, appends the Markdown to the file out.
func WriteReport(text, md, out string) error {
	fmt.Println()
	fmt.Print(text)
	fmt.Println()
	fmt.Print(md)
	if out == "" {
		return nil
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n" + md)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "appended the Markdown report to %s\n", out)
	return nil
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// FirstLine is the first line of err's text.
func FirstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// OneLine is the first line of s, fit for a Markdown table cell.
func OneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "|", "\\|")
}

// Secs formats d in seconds, "1.23s".
func Secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// MiB formats KiB as MiB with one decimal, "?" when unknown.
func MiB(kib int64) string {
	if kib <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// F1 formats x with one decimal.
func F1(x float64) string { return fmt.Sprintf("%.1f", x) }

// F2 formats x with two decimals.
func F2(x float64) string { return fmt.Sprintf("%.2f", x) }
