package contract

import (
	"testing"
)

const (
	ecsTasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	twoTrust      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","ecs.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	readSecrets   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"}]}`
	readBucket    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app/*"}]}`
	writeBucket   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::app/*"}]}`
	writeLogs     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
	execPolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
)

// TestTerraformIAM replays an aws_iam_policy, an aws_iam_role with
// inline_policy and managed_policy_arns, an execution role with an
// aws_iam_role_policy and two aws_iam_role_policy_attachments (the AWS
// managed execution role policy and the customer managed one): apply, a
// refresh, an update of each (the policy through five new versions, so
// the provider prunes), destroy and a refresh after it.
func TestTerraformIAM(t *testing.T) {
	p := newCfgProvider(t)
	c := ctx(t)
	pol := policyConfig{name: "app-read", path: "/app/", description: "reads the bucket", policy: readBucket, tags: map[string]string{"team": "a"}}
	polARN, err := p.createPolicy(c, pol)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.readPolicy(c, polARN, pol.policy)
	if err != nil {
		t.Fatal(err)
	}
	wantPolicy := map[string]any{"arn": "arn:aws:iam::123456789012:policy/app/app-read", "attachment_count": int32(0), "description": pol.description,
		"name": pol.name, "path": pol.path, "policy_id_set": true, "policy": readBucket, "tags": pol.tags}
	wantNoDiff(t, "policy after create", wantPolicy, st)

	task := roleConfig{name: "app-task", path: "/", assumeRolePolicy: ecsTasksTrust, description: "the app's task role",
		tags: map[string]string{"team": "a"}, inline: map[string]string{"logs": writeLogs}, managed: []string{polARN}}
	if err := p.createRole(c, task); err != nil {
		t.Fatal(err)
	}
	exec := roleConfig{name: "app-exec", path: "/service/", assumeRolePolicy: ecsTasksTrust}
	if err := p.createRole(c, exec); err != nil {
		t.Fatal(err)
	}
	if err := p.putRolePolicy(c, exec.name, "secrets", readSecrets); err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{execPolicyARN, polARN} {
		if err := p.attachPolicyToRole(c, exec.name, arn); err != nil {
			t.Fatalf("aws_iam_role_policy_attachment %s: %v", arn, err)
		}
	}

	// refresh
	wantTask := map[string]any{"arn": "arn:aws:iam::123456789012:role/app-task", "assume_role_policy": ecsTasksTrust, "description": task.description,
		"max_session_duration": int32(3600), "name": task.name, "path": "/", "permissions_boundary": "", "create_date_set": true,
		"tags": task.tags, "inline_policy": task.inline, "managed_policy_arns": []string{polARN}}
	st, err = p.readRole(c, task)
	if err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "task role after create", wantTask, st)
	if id, _ := st["unique_id"].(string); len(id) != 21 || id[:4] != "AROA" {
		t.Errorf("unique_id %q", st["unique_id"])
	}
	st, err = p.readRole(c, exec)
	if err != nil {
		t.Fatal(err)
	}
	wantNoDiff(t, "execution role after create", map[string]any{"arn": "arn:aws:iam::123456789012:role/service/app-exec", "path": "/service/",
		"assume_role_policy": ecsTasksTrust, "description": ""}, st)
	if doc, err := p.readRolePolicy(c, exec.name, "secrets", readSecrets); err != nil || doc != readSecrets {
		t.Errorf("aws_iam_role_policy read back %q %v", doc, err)
	}
	for _, arn := range []string{execPolicyARN, polARN} {
		if ok, err := p.readRolePolicyAttachment(c, exec.name, arn); err != nil || !ok {
			t.Errorf("aws_iam_role_policy_attachment %s read back %v %v", arn, ok, err)
		}
	}
	if st, err = p.readPolicy(c, polARN, pol.policy); err != nil || st["attachment_count"] != int32(2) {
		t.Errorf("policy attachment_count %v %v, want 2", st["attachment_count"], err)
	}
	// The AWS managed execution role policy reads as the data source would.
	if st, err := p.readPolicy(c, execPolicyARN, ""); err != nil || st == nil || st["name"] != "AmazonECSTaskExecutionRolePolicy" || st["path"] != "/service-role/" {
		t.Errorf("AmazonECSTaskExecutionRolePolicy: %v %v", st, err)
	}

	// update
	for i, doc := range []string{writeBucket, readBucket, writeBucket, readBucket, writeBucket} {
		if err := p.updatePolicy(c, polARN, doc); err != nil {
			t.Fatalf("policy update %d: %v", i+1, err)
		}
	}
	newTags := map[string]string{"team": "b", "env": "prod"}
	if err := p.updatePolicyTags(c, polARN, pol.tags, newTags); err != nil {
		t.Fatal(err)
	}
	if st, err = p.readPolicy(c, polARN, writeBucket); err != nil {
		t.Fatal(err)
	}
	wantPolicy["policy"], wantPolicy["tags"], wantPolicy["attachment_count"] = writeBucket, newTags, int32(2)
	wantNoDiff(t, "policy after update", wantPolicy, st)
	if vs, err := p.policyVersions(c, polARN); err != nil || len(vs) != 5 {
		t.Errorf("%d versions (%v), want 5 after the prune", len(vs), err)
	}
	next := task
	next.assumeRolePolicy, next.description, next.maxSessionDuration = twoTrust, "the task role", 7200
	next.tags = map[string]string{"team": "b", "env": "prod"}
	next.inline = map[string]string{"logs2": writeLogs, "secrets": readSecrets}
	next.managed = []string{execPolicyARN}
	if err := p.updateRole(c, task, next); err != nil {
		t.Fatal(err)
	}
	st, err = p.readRole(c, next)
	if err != nil {
		t.Fatal(err)
	}
	wantTask["assume_role_policy"], wantTask["description"], wantTask["max_session_duration"] = twoTrust, next.description, int32(7200)
	wantTask["tags"], wantTask["inline_policy"], wantTask["managed_policy_arns"] = next.tags, next.inline, []string{execPolicyARN}
	wantNoDiff(t, "task role after update", wantTask, st)
	if err := p.putRolePolicy(c, exec.name, "secrets", writeLogs); err != nil {
		t.Fatal(err)
	}
	if doc, err := p.readRolePolicy(c, exec.name, "secrets", writeLogs); err != nil || doc != writeLogs {
		t.Errorf("aws_iam_role_policy after update %q %v", doc, err)
	}

	// destroy
	for _, arn := range []string{execPolicyARN, polARN} {
		if err := p.deleteRolePolicyAttachment(c, exec.name, arn); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.deleteRolePolicy(c, exec.name, "secrets"); err != nil {
		t.Fatal(err)
	}
	if err := p.deleteRole(c, exec.name, false, false); err != nil {
		t.Fatal(err)
	}
	if err := p.deleteRole(c, task.name, true, true); err != nil {
		t.Fatal(err)
	}
	if err := p.deletePolicy(c, polARN); err != nil {
		t.Fatal(err)
	}
	for _, r := range []roleConfig{task, exec} {
		if st, err := p.readRole(c, r); err != nil || st != nil {
			t.Errorf("refresh of role %s after destroy: %v %v", r.name, st, err)
		}
	}
	if st, err := p.readPolicy(c, polARN, ""); err != nil || st != nil {
		t.Errorf("refresh of the policy after destroy: %v %v", st, err)
	}
	if doc, err := p.readRolePolicy(c, exec.name, "secrets", ""); err != nil || doc != "" {
		t.Errorf("refresh of the role policy after destroy: %q %v", doc, err)
	}
	if ok, err := p.readRolePolicyAttachment(c, exec.name, execPolicyARN); err != nil || ok {
		t.Errorf("refresh of the attachment after destroy: %v %v", ok, err)
	}
	for _, f := range []func() error{
		func() error { return p.deleteRolePolicyAttachment(c, exec.name, execPolicyARN) },
		func() error { return p.deleteRolePolicy(c, exec.name, "secrets") },
		func() error { return p.deleteRole(c, exec.name, true, true) },
		func() error { return p.deletePolicy(c, polARN) },
	} {
		if err := f(); err != nil {
			t.Errorf("destroy of what is gone: %v", err)
		}
	}
}
