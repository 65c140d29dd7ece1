package fsm_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

const smARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"

func smVersion(n int, stages ...string) wire.SMVersion {
	return wire.SMVersion{ID: strings.Repeat(string(rune('0'+n)), 32), Sealed: []byte{byte(n)}, Stages: stages, CreatedAt: epoch}
}

func applyAll(t *testing.T, m *machine, cmds ...wire.Command) []string {
	t.Helper()
	var out []string
	for _, c := range cmds {
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.apply(b))
	}
	return out
}

// Staging labels move as Secrets Manager moves them, and a secret
// survives a snapshot and restore byte for byte.
func TestSecretStagesAndSnapshot(t *testing.T) {
	m := newMachine()
	v1, v2, v3 := smVersion(1), smVersion(2), smVersion(3, "blue", "AWSCURRENT")
	res := applyAll(t, m,
		wire.CreateSecret{Meta: at(1), ARN: smARN, Name: "db", NewVersion: &v1},
		wire.PutSecretValue{Meta: at(2), ARN: smARN, NewVersion: v2},
		wire.PutSecretValue{Meta: at(3), ARN: smARN, NewVersion: v3},
		wire.PutSecretValue{Meta: at(4), ARN: smARN, NewVersion: v3}, // a version ID is never reused
		wire.CreateSecret{Meta: at(5), ARN: smARN + "x", Name: "db"},
	)
	if !slices.Equal(res[:3], []string{"ok: *state.Secret", "ok: *state.Secret", "ok: *state.Secret"}) ||
		!strings.Contains(res[3], "ResourceExistsException") || !strings.Contains(res[4], "ResourceExistsException") {
		t.Fatalf("results %q", res)
	}
	s := m.m.Snapshot().Secret(smARN)
	stages := func(id string) []string { v := s.Version(id); slices.Sort(v.Stages); return v.Stages }
	if len(stages(v1.ID)) != 0 || !slices.Equal(stages(v2.ID), []string{"AWSPREVIOUS"}) || !slices.Equal(stages(v3.ID), []string{"AWSCURRENT", "blue"}) {
		t.Fatalf("stages %+v", s.Versions)
	}
	var first bytes.Buffer
	if err := fsm.Persist(m.m.Snapshot(), &first); err != nil {
		t.Fatal(err)
	}
	store, err := fsm.ReadSnapshot(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := fsm.Persist(store.Snapshot(), &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) || store.Snapshot().SecretByName("db") == nil {
		t.Fatalf("snapshot changed across a restore:\n%s\n%s", first.String(), second.String())
	}
}

// A scheduled deletion keeps the name until the deletion date; then a
// CreateSecret of the name purges the old secret.
func TestSecretDeletionWindow(t *testing.T) {
	m := newMachine()
	after := epoch.Add(10*time.Second + 7*24*time.Hour)
	res := applyAll(t, m,
		wire.CreateSecret{Meta: at(1), ARN: smARN, Name: "db"},
		wire.DeleteSecret{Meta: at(10), ARN: smARN, DeleteAfter: after},
		wire.CreateSecret{Meta: at(11), ARN: smARN + "2", Name: "db"},
		wire.TagSecret{Meta: at(12), ARN: smARN, Tags: []wire.SMTag{{Key: "a", Value: "b"}}},
		wire.CreateSecret{Meta: wire.Meta{Now: after}, ARN: smARN + "3", Name: "db"},
		wire.RestoreSecret{Meta: wire.Meta{Now: after}, ARN: smARN},
	)
	if res[0] != "ok: *state.Secret" || res[1] != "ok: *state.Secret" || !strings.Contains(res[2], "already scheduled for deletion") ||
		!strings.Contains(res[3], "marked for deletion") || res[4] != "ok: *state.Secret" || !strings.Contains(res[5], "ResourceNotFoundException") {
		t.Fatalf("results %q", res)
	}
	if snap := m.m.Snapshot(); snap.Secret(smARN) != nil || snap.SecretByName("db").ARN != smARN+"3" {
		t.Fatal("the expired secret was not purged")
	}
}
