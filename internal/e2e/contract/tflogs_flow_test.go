package contract

import (
	"testing"
)

// TestTerraformLogGroup replays aws_cloudwatch_log_group: create with
// retention and tags, a refresh, a retention and tags change, retention
// removed, a group whose name prefixes another's (the read must pick the
// exact name), destroy and a refresh after it.
func TestTerraformLogGroup(t *testing.T) {
	p := newCfgProvider(t)
	c := ctx(t)
	cfg := logGroupConfig{name: "/ecs/app", retentionInDays: 14, tags: map[string]string{"team": "a"}}
	if err := p.createLogGroup(c, cfg); err != nil {
		t.Fatal(err)
	}
	other := logGroupConfig{name: "/ecs/app-worker"}
	if err := p.createLogGroup(c, other); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app"
	want := map[string]any{"arn": arn, "kms_key_id": "", "log_group_class": "STANDARD", "name": cfg.name, "retention_in_days": int32(14),
		"tags": cfg.tags}
	st, err := p.readLogGroup(c, cfg.name)
	if err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "log group after create", want, st)

	next := cfg
	next.retentionInDays, next.tags = 30, map[string]string{"team": "b", "env": "prod"}
	if err := p.updateLogGroup(c, arn, cfg, next); err != nil {
		t.Fatal(err)
	}
	want["retention_in_days"], want["tags"] = int32(30), next.tags
	if st, err = p.readLogGroup(c, cfg.name); err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "log group after update", want, st)
	last := next
	last.retentionInDays, last.tags = 0, map[string]string{}
	if err := p.updateLogGroup(c, arn, next, last); err != nil {
		t.Fatal(err)
	}
	want["retention_in_days"], want["tags"] = int32(0), map[string]string{}
	if st, err = p.readLogGroup(c, cfg.name); err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "log group without retention or tags", want, st)

	for _, name := range []string{cfg.name, other.name} {
		if err := p.deleteLogGroup(c, name); err != nil {
			t.Fatal(err)
		}
		if st, err := p.readLogGroup(c, name); err != nil || st != nil {
			t.Errorf("refresh of %s after destroy: %v %v", name, st, err)
		}
		if err := p.deleteLogGroup(c, name); err != nil {
			t.Errorf("destroy again: %v", err)
		}
	}
}
