package demoapp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// run does what cfg asks and returns the exit code.
func run(cfg config) int {
	for i := 1; i <= cfg.print; i++ {
		fmt.Fprintf(os.Stdout, "stdout line %d\n", i)
		fmt.Fprintf(os.Stderr, "stderr line %d\n", i)
	}
	if cfg.touch != "" {
		if err := touch(cfg.touch); err != nil {
			fmt.Fprintf(os.Stderr, "touch: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stdout, "wrote %s\n", cfg.touch)
	}
	if cfg.exitRequested && cfg.exitAfter == 0 {
		fmt.Fprintf(os.Stdout, "exiting with code %d\n", cfg.exitCode)
		return cfg.exitCode
	}

	// Signals are caught before the server starts, so a SIGTERM sent as
	// soon as the port answers is never handled by the default action.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		return 1
	}
	exit := make(chan int, 1)
	h := newServer(cfg.unhealthy, exit)
	if cfg.logRequests {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				fmt.Fprintf(os.Stdout, "%s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "serve: %v\n", err)
			exit <- 1
		}
	}()
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())

	var exitTimer <-chan time.Time
	if cfg.exitRequested {
		exitTimer = time.After(cfg.exitAfter)
	}
	var drained <-chan time.Time
	for {
		select {
		case code := <-exit:
			return code
		case <-exitTimer:
			fmt.Fprintf(os.Stdout, "exiting with code %d\n", cfg.exitCode)
			return cfg.exitCode
		case <-drained:
			fmt.Fprintln(os.Stdout, "drained, exiting with code 0")
			return 0
		case s := <-sigs:
			if s == syscall.SIGTERM && cfg.ignoreSigterm {
				fmt.Fprintln(os.Stdout, "ignoring SIGTERM")
				continue
			}
			if drained != nil {
				continue
			}
			fmt.Fprintf(os.Stdout, "received %v, draining for %v\n", s, cfg.drain)
			drained = time.After(cfg.drain)
		}
	}
}

func touch(path string) error {
	host, _ := os.Hostname()
	return os.WriteFile(path, fmt.Appendf(nil, "berth-testapp pid %d host %s\n", os.Getpid(), host), 0o644)
}
