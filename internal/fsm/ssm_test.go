package fsm_test

import (
	"bytes"
	"strings"
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

func ssmVersion(n int64, typ string) wire.SSMParameterVersion {
	return wire.SSMParameterVersion{Version: n, Type: typ, Value: "v", Tier: "Standard", DataType: "text"}
}

// The parameter rules the applier keeps: a put names the version it
// expects (a raced put is TooManyUpdates), the type never changes, a
// labelled oldest version blocks the 101st, and parameters survive a
// snapshot and restore byte for byte.
func TestParameterRules(t *testing.T) {
	m := newMachine()
	run := func(c wire.Command, want string) {
		t.Helper()
		b, _ := wire.Encode(c)
		if out := m.apply(b); !strings.HasPrefix(out, want) {
			t.Fatalf("%s: %s, want %s", c.Type(), out, want)
		}
	}
	run(wire.PutParameter{Meta: at(1), Name: "/p", Value: ssmVersion(2, "String")}, "error: TooManyUpdates")
	run(wire.PutParameter{Meta: at(1), Name: "/p", Value: ssmVersion(1, "String"), Tags: []wire.SSMTag{{Key: "k", Value: "v"}}}, "ok:")
	run(wire.PutParameter{Meta: at(2), Name: "/p", Value: ssmVersion(2, "String")}, "error: ParameterAlreadyExists")
	run(wire.PutParameter{Meta: at(2), Name: "/p", Overwrite: true, Value: ssmVersion(3, "String")}, "error: TooManyUpdates")
	run(wire.PutParameter{Meta: at(2), Name: "/p", Overwrite: true, Value: ssmVersion(2, "StringList")}, "error: HierarchyTypeMismatchException")
	run(wire.LabelParameterVersion{Meta: at(3), Name: "/p", ParameterVersion: 1, Labels: []string{"keep"}}, "ok:")
	for n := int64(2); n <= fsm.SSMMaxVersions; n++ {
		run(wire.PutParameter{Meta: at(4), Name: "/p", Overwrite: true, Value: ssmVersion(n, "String")}, "ok:")
	}
	run(wire.PutParameter{Meta: at(5), Name: "/p", Overwrite: true, Value: ssmVersion(101, "String")}, "error: ParameterMaxVersionLimitExceeded")
	run(wire.UnlabelParameterVersion{Meta: at(6), Name: "/p", ParameterVersion: 1, Labels: []string{"keep"}}, "ok:")
	run(wire.PutParameter{Meta: at(7), Name: "/p", Overwrite: true, Value: ssmVersion(101, "String")}, "ok:")
	run(wire.LabelParameterVersion{Meta: at(8), Name: "/p", ParameterVersion: 1, Labels: []string{"x"}}, "error: ParameterVersionNotFound")
	run(wire.PutParameter{Meta: at(9), Name: "/s", Value: wire.SSMParameterVersion{Version: 1, Type: "SecureString", Sealed: []byte{1, 2, 0, 255},
		KeyID: "alias/aws/ssm", Tier: "Advanced", DataType: "text"}}, "ok:")
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
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("snapshot changed across a restore")
	}
	p := store.Snapshot().Parameter("/p")
	if p == nil || len(p.Versions) != fsm.SSMMaxVersions || p.Versions[0].Version != 2 || p.Latest().Version != 101 || len(p.Tags) != 1 {
		t.Fatalf("restored: %+v", p)
	}
}
