package fsm_test

import (
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/fsm/wire"
)

// Issuing a credential collects the ones expired as of the command's
// time; a role with policies cannot be deleted; an update computed from
// an older revision is a conflict.
func TestIAMAppliers(t *testing.T) {
	m := newMachine()
	cred := func(id string, expires time.Duration) wire.STSCredential {
		return wire.STSCredential{AccessKeyID: id, SealedSecret: []byte{1}, TokenHash: []byte{2}, Expiration: epoch.Add(expires),
			Principal: "arn:aws:sts::123456789012:assumed-role/r/s", UserID: "AROAX:s", RoleARN: "arn:aws:iam::123456789012:role/r"}
	}
	role := wire.IAMRole{Name: "r", ID: "AROAX", ARN: "arn:aws:iam::123456789012:role/r", Path: "/", AssumeRolePolicy: "{}", MaxSessionDuration: 3600}
	withPolicy := role
	withPolicy.Attached = []string{"arn:aws:iam::aws:policy/P"}
	steps := []struct {
		c    wire.Command
		want string
	}{
		{wire.IssueSTSCredentials{Meta: at(1), Credential: cred("ASIAONE", 10*time.Second)}, "ok:"},
		{wire.IssueSTSCredentials{Meta: at(2), Credential: cred("ASIAONE", time.Hour)}, "error:"},
		{wire.IssueSTSCredentials{Meta: at(11), Credential: cred("ASIATWO", time.Hour)}, "ok:"},
		{wire.CreateIAMRole{Meta: at(12), Role: role}, "ok:"},
		{wire.CreateIAMRole{Meta: at(13), Role: role}, "error:"},
		{wire.UpdateIAMRole{Meta: at(14), Base: 1, Role: withPolicy}, "ok:"},
		{wire.UpdateIAMRole{Meta: at(15), Base: 1, Role: role}, "error:"},
		{wire.DeleteIAMRole{Meta: at(16), Name: "R"}, "error:"},
		{wire.UpdateIAMRole{Meta: at(17), Base: 2, Role: role}, "ok:"},
		{wire.DeleteIAMRole{Meta: at(18), Name: "R"}, "ok:"},
	}
	for i, s := range steps {
		b, _ := wire.Encode(s.c)
		if out := m.apply(b); !strings.HasPrefix(out, s.want) {
			t.Fatalf("step %d (%s): got %s, want %s", i, s.c.Type(), out, s.want)
		}
	}
	snap := m.m.Snapshot()
	if snap.STSCredential("ASIAONE") != nil || snap.STSCredential("ASIATWO") == nil {
		t.Fatal("the expired credential was not collected, or the new one is missing")
	}
	if snap.IAMRole("r") != nil {
		t.Fatal("the role was not deleted")
	}
}
