package stsapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/seal"
	"berth.dev/berth/internal/state"
)

type roles map[string]*state.IAMRole

func (r roles) Role(name string) *state.IAMRole { return r[strings.ToLower(name)] }

const (
	taskTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	rootTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`
)

type proposer struct {
	mu      sync.Mutex
	m       *fsm.Machine
	entries [][]byte
}

func (p *proposer) Apply(_ context.Context, c wire.Command) (any, error) {
	entry, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, entry)
	r := p.m.Apply(uint64(len(p.entries)), entry)
	return r.Value, r.Err
}

func testAPI(t *testing.T) (*API, *time.Time, *proposer) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rs := roles{
		"task":  {Name: "task", ID: "AROATASKROLE000000001", ARN: "arn:aws:iam::123456789012:role/task", Path: "/", AssumeRolePolicy: taskTrust, MaxSessionDuration: 7200},
		"admin": {Name: "admin", ID: "AROAADMINROLE00000001", ARN: "arn:aws:iam::123456789012:role/ops/admin", Path: "/ops/", AssumeRolePolicy: rootTrust, MaxSessionDuration: 3600},
	}
	m := fsm.New(arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}, slog.New(slog.DiscardHandler))
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	p := &proposer{m: m}
	return New(Config{Account: "123456789012", Roles: rs, State: m, Proposer: p, Sealer: sealer, Now: func() time.Time { return now }}), &now, p
}

func code(err error) string {
	if e, ok := apierr.As(err); ok {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestIssueRoleCredentials(t *testing.T) {
	a, now, _ := testAPI(t)
	ctx := context.Background()
	c, err := a.IssueRoleCredentials(ctx, "arn:aws:iam::123456789012:role/task", "t-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) || len(c.SessionToken) < 200 || len(c.SecretAccessKey) != 40 ||
		!c.Expiration.Equal(now.Add(time.Hour)) || c.AssumedRoleID != "AROATASKROLE000000001:t-1" {
		t.Fatalf("credentials %v %s", c, c.AssumedRoleID)
	}
	if s := c.String() + fmt.Sprintf("%v %+v", c, c); strings.Contains(s, c.SecretAccessKey) || strings.Contains(s, c.SessionToken) {
		t.Fatal("formatting credentials shows the secret or the token")
	}
	secret, principal, err := a.Lookup(c.AccessKeyID, c.SessionToken)
	if err != nil || secret != c.SecretAccessKey || principal != "arn:aws:sts::123456789012:assumed-role/task/t-1" {
		t.Fatalf("Lookup: %q %v", principal, err)
	}
	if _, _, err := a.Lookup(c.AccessKeyID, c.SessionToken+"x"); code(err) != CodeUnrecognizedClient {
		t.Fatalf("wrong token: %v", err)
	}
	if _, _, err := a.Lookup(c.AccessKeyID, ""); code(err) != CodeUnrecognizedClient {
		t.Fatalf("no token: %v", err)
	}
	*now = now.Add(time.Hour)
	if _, _, err := a.Lookup(c.AccessKeyID, c.SessionToken); code(err) != CodeExpiredToken {
		t.Fatalf("expired: %v", err)
	}
	if a.Sessions() != 0 {
		t.Fatal("an expired session counts")
	}
	// by name, and the refusals
	if _, err := a.IssueRoleCredentials(ctx, "task", "t-2", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"no trust":      second(a.IssueRoleCredentials(ctx, "arn:aws:iam::123456789012:role/ops/admin", "t-3", 0)),
		"no role":       second(a.IssueRoleCredentials(ctx, "arn:aws:iam::123456789012:role/ghost", "t-3", 0)),
		"other account": second(a.IssueRoleCredentials(ctx, "arn:aws:iam::111122223333:role/task", "t-3", 0)),
	} {
		if code(err) != CodeAccessDenied {
			t.Errorf("%s: got %v, want AccessDenied", name, err)
		}
	}
	for name, err := range map[string]error{
		"too long":     second(a.IssueRoleCredentials(ctx, "task", "t-3", 3*time.Hour)),
		"too short":    second(a.IssueRoleCredentials(ctx, "task", "t-3", time.Minute)),
		"session name": second(a.IssueRoleCredentials(ctx, "task", "x", 0)),
	} {
		if code(err) != CodeValidation {
			t.Errorf("%s: got %v, want ValidationError", name, err)
		}
	}
}

// The log holds neither the secret nor the token.
func TestSecretsNotInTheLog(t *testing.T) {
	a, _, p := testAPI(t)
	c, err := a.IssueRoleCredentials(context.Background(), "task", "t-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := fsm.Persist(p.m.Snapshot(), &b); err != nil {
		t.Fatal(err)
	}
	for _, e := range append(p.entries, b.Bytes()) {
		if bytes.Contains(e, []byte(c.SecretAccessKey)) || bytes.Contains(e, []byte(c.SessionToken)) {
			t.Fatal("a log entry or the snapshot holds the secret or the token")
		}
	}
	if !bytes.Contains(b.Bytes(), []byte(c.AccessKeyID)) {
		t.Fatal("the snapshot has no credential")
	}
}

func second[T any](_ T, err error) error { return err }
