// Package nodestream is the client side shared by berth's data-plane nodes
// (load balancers, DNS): requests to the server signed with SigV4 (signing
// name ecs, as agents sign), the server's JSON errors, and the reading of a
// push stream of newline-delimited messages whose silence beyond a limit
// ends it.
//
// Invariants: ReadLines hands every line to fn in order, each a copy the
// caller may keep, and returns only when ctx ends, the stream breaks or
// closes, or no line (heartbeats included) came within the limit.
package nodestream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Server is where a node's requests go and how they are signed.
type Server struct {
	URL             string // the server's endpoint, without a trailing slash
	Region          string
	AccessKeyID     string
	SecretAccessKey string
}

// Signed returns a POST of body (JSON) to path on the server, signed.
func (s Server) Signed(ctx context.Context, path string, body any) (*http.Request, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecs", s.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return req, nil
}

// APIError is the error of a response that is not 200: the server's
// {"__type", "message"}, or the status and the start of the body.
func APIError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Type != "" {
		return fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// ErrSilent ends a stream that sent nothing within the silence limit.
var ErrSilent = errors.New("stream silent for too long")

// ReadLines reads body line by line (lines up to 64 MiB) and calls fn with
// each, until ctx ends (its error), the body fails or ends (an error
// saying so) or silence passes without a line (ErrSilent).
func ReadLines(ctx context.Context, body io.Reader, silence time.Duration, fn func(line []byte)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			readErr <- err
		} else {
			readErr <- errors.New("stream closed by the server")
		}
	}()
	timer := time.NewTimer(silence)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-timer.C:
			return ErrSilent
		case line := <-lines:
			timer.Reset(silence)
			fn(line)
		}
	}
}
