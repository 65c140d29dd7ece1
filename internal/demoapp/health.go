package demoapp

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// healthCommand is `berth-testapp health [--timeout D] [URL]`: it exits 0
// when URL answers 2xx within the timeout, else 1. It is the health check
// command of images without a shell.
func healthCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "request timeout")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	url := fs.Arg(0)
	if url == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		url = "http://127.0.0.1:" + port + "/health"
	}
	c := &http.Client{Timeout: *timeout}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintf(stdout, "unhealthy: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stdout, "unhealthy: %s\n", resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "healthy: %s\n", resp.Status)
	return 0
}
