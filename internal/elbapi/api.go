package elbapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Config wires the API.
type Config struct {
	Namer    arn.Namer
	State    Reader
	Proposer Proposer
	// Health is the data plane's target health; nil: no reports.
	Health HealthSource
	// Certificates knows certificate ARNs; nil: none known.
	Certificates CertificateSource
	// LBAddresses is the pool load balancer addresses come from (berth
	// server --lb-addresses); the zero Prefix means none: CreateLoadBalancer
	// is refused.
	LBAddresses netip.Prefix
	// NewID returns a new 16-hex-digit resource ID; default random.
	NewID func() string
}

// API serves the ELBv2 operations.
type API struct {
	cfg   Config
	namer elb.Namer
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.NewID == nil {
		cfg.NewID = randomID
	}
	return &API{cfg: cfg, namer: elb.Namer{Partition: cfg.Namer.Partition, Region: cfg.Namer.Region, Account: cfg.Namer.Account}}
}

func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("elbapi: no randomness: %v", err)) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Call is one authenticated request: its caller and when it arrived.
type Call struct {
	Principal string
	Now       time.Time
}

func (c *Call) meta() wire.Meta { return wire.Meta{Now: c.Now.UTC(), Principal: c.Principal} }

// propose commits a command and returns its result.
func (a *API) propose(ctx context.Context, c wire.Command) (any, error) {
	return a.cfg.Proposer.Apply(ctx, c)
}

// ErrorFor turns an error of an operation into ELB's answer: the ELB
// error it carries, else a server fault (ok false).
func ErrorFor(err error) (*elb.Error, bool) {
	var e *elb.Error
	if errors.As(err, &e) {
		return e, true
	}
	if errors.Is(err, fsm.ErrNotCommitted) {
		return &elb.Error{Code: "ServiceUnavailable", Message: "The request was not processed: the server is not ready or is not the leader; retry it.", Status: 503}, true
	}
	return nil, false
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Paging: Marker is the base64 of the last ARN of the previous page.

const maxPageSize = 400

func pageSize(p *int32) (int, error) {
	if p == nil {
		return maxPageSize, nil
	}
	if *p < 1 || *p > maxPageSize {
		return 0, elb.Validationf("Page size must be between 1 and %d", maxPageSize)
	}
	return int(*p), nil
}

func decodeMarker(m *string) (string, error) {
	if m == nil || *m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*m)
	if err != nil {
		return "", elb.Validationf("The marker '%s' is not valid", *m)
	}
	return string(b), nil
}

func encodeMarker(last string) *string {
	return ptr(base64.RawURLEncoding.EncodeToString([]byte(last)))
}

// page cuts arns (sorted) after the marker to size; next is nil at the end.
func page[T any](items []T, key func(T) string, marker *string, size *int32) ([]T, *string, error) {
	n, err := pageSize(size)
	if err != nil {
		return nil, nil, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if after != "" {
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if len(items) > n {
		return items[:n], encodeMarker(key(items[n-1])), nil
	}
	return items, nil, nil
}

// pickAddress returns the lowest free address of the pool in snap.
func (a *API) pickAddress(snap *state.Snapshot) (string, error) {
	if !a.cfg.LBAddresses.IsValid() {
		return "", elb.InvalidConfigf("berth has no load balancer addresses: start the server with --lb-addresses CIDR (berth dev uses 127.0.1.0/24)")
	}
	used := map[netip.Addr]bool{}
	snap.LoadBalancers(func(lb *state.LoadBalancer) bool {
		if ad, err := netip.ParseAddr(lb.Address); err == nil {
			used[ad] = true
		}
		return true
	})
	ad, ok := elb.LowestFreeAddress(a.cfg.LBAddresses, func(x netip.Addr) bool { return used[x] })
	if !ok {
		return "", elb.Errorf(elb.CodeTooManyLoadBalancers, "Every address of berth's load balancer pool %s is in use", a.cfg.LBAddresses)
	}
	return ad.String(), nil
}

func notSupported(member string) error {
	return elb.InvalidConfigf("%s is not supported by berth", member)
}

func checkARN(arnValue, kind, what string) error {
	if elb.ARNKind(arnValue) != kind {
		return elb.Validationf("'%s' is not a valid %s ARN", arnValue, what)
	}
	return nil
}

func required(v *string, name string) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", elb.Validationf("%s must be specified", name)
	}
	return *v, nil
}
