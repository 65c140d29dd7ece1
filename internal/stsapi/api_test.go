package stsapi

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/state"
)

type roles map[string]*state.IAMRole

func (r roles) Role(name string) *state.IAMRole { return r[strings.ToLower(name)] }

const (
	taskTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	rootTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`
)

func testAPI() (*API, *time.Time) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rs := roles{
		"task":  {Name: "task", ID: "AROATASKROLE000000001", ARN: "arn:aws:iam::123456789012:role/task", Path: "/", AssumeRolePolicy: taskTrust, MaxSessionDuration: 7200},
		"admin": {Name: "admin", ID: "AROAADMINROLE00000001", ARN: "arn:aws:iam::123456789012:role/ops/admin", Path: "/ops/", AssumeRolePolicy: rootTrust, MaxSessionDuration: 3600},
	}
	return New(Config{Account: "123456789012", Roles: rs, Now: func() time.Time { return now }}), &now
}

func code(err error) string {
	if e, ok := apierr.As(err); ok {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestIssueRoleCredentials(t *testing.T) {
	a, now := testAPI()
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
		t.Fatal("an expired session was not collected")
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

func second[T any](_ T, err error) error { return err }
