package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	writePolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"*"}]}`
	execPolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
)

// TestIAMManagedPolicyLifecycle creates, versions, tags, attaches and
// deletes a customer managed policy, and reads an AWS managed one.
func TestIAMManagedPolicyLifecycle(t *testing.T) {
	e := startIAM(t, t.TempDir())
	ctx := e.ctx
	out, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(readPolicy), Description: aws.String("reads"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Policy.Arn)
	if arn != "arn:aws:iam::123456789012:policy/team/read" || aws.ToString(out.Policy.DefaultVersionId) != "v1" ||
		!strings.HasPrefix(aws.ToString(out.Policy.PolicyId), "ANPA") || aws.ToInt32(out.Policy.AttachmentCount) != 0 || !out.Policy.IsAttachable {
		t.Fatalf("CreatePolicy: %+v", out.Policy)
	}
	_, err = e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("READ"), PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "duplicate name", err, "EntityAlreadyExists", 409, "A policy called READ already exists. Duplicate names are not allowed.")

	got, err := e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToString(got.Policy.Description) != "reads" || len(got.Policy.Tags) != 1 || aws.ToString(got.Policy.Path) != "/team/" {
		t.Fatalf("GetPolicy %v %+v", err, got)
	}
	nv, err := e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(writePolicy)})
	if err != nil || aws.ToString(nv.PolicyVersion.VersionId) != "v2" || nv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion %v %+v", err, nv)
	}
	if _, err := e.iam.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	gv, err := e.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	if err != nil || !gv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion %v %+v", err, gv)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gv.PolicyVersion.Document)); doc != writePolicy {
		t.Fatalf("document %q", doc)
	}
	lv, err := e.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(lv.Versions) != 2 || aws.ToString(lv.Versions[0].VersionId) != "v2" || lv.Versions[0].Document != nil {
		t.Fatalf("ListPolicyVersions %v %+v", err, lv)
	}
	p1, err := e.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn), MaxItems: aws.Int32(1)})
	if err != nil || !p1.IsTruncated || len(p1.Versions) != 1 {
		t.Fatalf("ListPolicyVersions page 1 %v %+v", err, p1)
	}
	p2, err := e.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn), Marker: p1.Marker})
	if err != nil || p2.IsTruncated || len(p2.Versions) != 1 || aws.ToString(p2.Versions[0].VersionId) != "v1" {
		t.Fatalf("ListPolicyVersions page 2 %v %+v", err, p2)
	}
	for range 3 {
		if _, err := e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(readPolicy)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "sixth version", err, "LimitExceeded", 409, "A managed policy can have up to 5 versions.")
	_, err = e.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	wantErr(t, "delete the default version", err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	_, err = e.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantErr(t, "delete a missing version", err, "NoSuchEntity", 404, "version v9 does not exist")

	// tags
	if _, err := e.iam.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: []string{"TEAM"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := e.iam.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "env" {
		t.Fatalf("ListPolicyTags %v %+v", err, lt)
	}

	// attachment
	if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{arn, execPolicyARN} {
		if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := e.iam.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "app" {
		t.Fatalf("ListEntitiesForPolicy %v %+v", err, ents)
	}
	if got, err := e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy after attach %v %+v", err, got)
	}
	lp, err := e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil || len(lp.Policies) != 1 || aws.ToString(lp.Policies[0].Arn) != arn {
		t.Fatalf("ListPolicies Local %v %+v", err, lp)
	}
	la, err := e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})
	if err != nil || len(la.Policies) != 2 {
		t.Fatalf("ListPolicies OnlyAttached %v %+v", err, la)
	}
	_, err = e.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, "delete attached", err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	if _, err := e.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, "delete with versions", err, "DeleteConflict", 409, "more than one version")
	for _, v := range []string{"v1", "v3", "v4", "v5"} {
		if _, err := e.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, "deleted", err, "NoSuchEntity", 404, "Policy "+arn+" was not found.")

	// the AWS managed execution role policy
	ex, err := e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(execPolicyARN)})
	if err != nil || aws.ToString(ex.Policy.PolicyName) != "AmazonECSTaskExecutionRolePolicy" || aws.ToString(ex.Policy.Path) != "/service-role/" ||
		aws.ToInt32(ex.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy AWS managed %v %+v", err, ex)
	}
	exv, err := e.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(execPolicyARN), VersionId: ex.Policy.DefaultVersionId})
	if doc, _ := url.QueryUnescape(aws.ToString(exv.PolicyVersion.Document)); err != nil || !strings.Contains(doc, "ecr:GetAuthorizationToken") {
		t.Fatalf("GetPolicyVersion AWS managed %v %q", err, doc)
	}
	_, err = e.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(execPolicyARN)})
	wantErr(t, "delete an AWS managed policy", err, "InvalidInput", 400, "AWS managed policy")
	ip, err := e.iam.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("app")})
	if err != nil || len(ip.InstanceProfiles) != 0 || ip.IsTruncated {
		t.Fatalf("ListInstanceProfilesForRole %v %+v", err, ip)
	}
	_, err = e.iam.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ghost")})
	wantErr(t, "instance profiles of no role", err, "NoSuchEntity", 404, "The role with name ghost cannot be found.")
}

// TestIAMManagedPolicyBadInput sends every kind of bad input to the
// managed policy operations (the SDK itself refuses missing required
// members).
func TestIAMManagedPolicyBadInput(t *testing.T) {
	e := startIAM(t, t.TempDir())
	ctx := e.ctx
	creates := []struct {
		name   string
		in     *iam.CreatePolicyInput
		code   string
		status int
		msg    string
	}{
		{"bad name", &iam.CreatePolicyInput{PolicyName: aws.String("a b"), PolicyDocument: aws.String(readPolicy)}, "ValidationError", 400, "Value 'a b' at 'policyName'"},
		{"long name", &iam.CreatePolicyInput{PolicyName: aws.String(strings.Repeat("p", 129)), PolicyDocument: aws.String(readPolicy)}, "ValidationError", 400, "length less than or equal to 128"},
		{"bad path", &iam.CreatePolicyInput{PolicyName: aws.String("p"), Path: aws.String("team"), PolicyDocument: aws.String(readPolicy)}, "ValidationError", 400, "at 'path'"},
		{"not json", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{")}, "MalformedPolicyDocument", 400, "Syntax errors in policy."},
		{"principal", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(ecsTrust)}, "MalformedPolicyDocument", 400, "Policy document should not specify a principal."},
		{"too large", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:` +
			strings.Repeat("x", 6200) + `"],"Resource":"*"}]}`)}, "LimitExceeded", 409, "PolicySize: 6144"},
		{"long description", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(readPolicy), Description: aws.String(strings.Repeat("d", 1001))}, "ValidationError", 400, "at 'description'"},
		{"aws tag", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(readPolicy), Tags: []iamtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidInput", 400, "aws: prefix"},
	}
	for _, c := range creates {
		_, err := e.iam.CreatePolicy(ctx, c.in)
		wantErr(t, c.name, err, c.code, c.status, c.msg)
	}
	out, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(readPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.Policy.Arn
	missing := aws.String("arn:aws:iam::123456789012:policy/ghost")
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: missing})
	wantErr(t, "missing policy", err, "NoSuchEntity", 404, "Policy arn:aws:iam::123456789012:policy/ghost was not found.")
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/team/p")})
	wantErr(t, "the right name on another path", err, "NoSuchEntity", 404, "was not found")
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NotInTheCatalog")})
	wantErr(t, "unknown AWS managed policy", err, "NoSuchEntity", 404, "was not found")
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:s3:::bucket")})
	wantErr(t, "not a policy ARN", err, "InvalidInput", 400, "ARN arn:aws:s3:::bucket is not valid.")
	_, err = e.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::999999999999:policy/p")})
	wantErr(t, "another account's policy", err, "InvalidInput", 400, "is not valid")
	_, err = e.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("1")})
	wantErr(t, "bad version ID", err, "ValidationError", 400, "at 'versionId'")
	_, err = e.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v7")})
	wantErr(t, "missing version", err, "NoSuchEntity", 404, "version v7 does not exist or is not attachable.")
	_, err = e.iam.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v7")})
	wantErr(t, "default a missing version", err, "NoSuchEntity", 404, "version v7")
	_, err = e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String("[]")})
	wantErr(t, "bad new version", err, "MalformedPolicyDocument", 400, "")
	_, err = e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: missing, PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "version of a missing policy", err, "NoSuchEntity", 404, "was not found")
	_, err = e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(execPolicyARN), PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "version of an AWS managed policy", err, "InvalidInput", 400, "AWS managed policy")
	_, err = e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"})
	wantErr(t, "bad scope", err, "ValidationError", 400, "at 'scope'")
	_, err = e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{PathPrefix: aws.String("team")})
	wantErr(t, "bad path prefix", err, "ValidationError", 400, "at 'pathPrefix'")
	_, err = e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{MaxItems: aws.Int32(0)})
	wantErr(t, "zero max items", err, "ValidationError", 400, "at 'maxItems'")
	_, err = e.iam.ListPolicies(ctx, &iam.ListPoliciesInput{Marker: aws.String("!!")})
	wantErr(t, "bad marker", err, "InvalidInput", 400, "Invalid Marker.")
	_, err = e.iam.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: arn, EntityFilter: "Robot"})
	wantErr(t, "bad entity filter", err, "ValidationError", 400, "at 'entityFilter'")
	_, err = e.iam.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: missing})
	wantErr(t, "entities of a missing policy", err, "NoSuchEntity", 404, "was not found")
	_, err = e.iam.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
	wantErr(t, "duplicate tag keys", err, "InvalidInput", 400, "Duplicate tag keys")
	_, err = e.iam.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(execPolicyARN), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantErr(t, "tag an AWS managed policy", err, "InvalidInput", 400, "AWS managed policy")
	_, err = e.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: missing})
	wantErr(t, "delete missing", err, "NoSuchEntity", 404, "was not found")
}

// Managed policies, their versions and attachments survive a restart.
func TestManagedPoliciesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	e := startIAM(t, dir)
	out, err := e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("keep"), PolicyDocument: aws.String(readPolicy),
		Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.Policy.Arn
	if _, err := e.iam.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(writePolicy), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	e.s.Close()
	e2 := startIAM(t, dir)
	got, err := e2.iam.GetPolicy(e2.ctx, &iam.GetPolicyInput{PolicyArn: arn})
	if err != nil || aws.ToString(got.Policy.DefaultVersionId) != "v2" || aws.ToInt32(got.Policy.AttachmentCount) != 1 || len(got.Policy.Tags) != 1 {
		t.Fatalf("after restart: %v %+v", err, got)
	}
	v, err := e2.iam.GetPolicyVersion(e2.ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v1")})
	if doc, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document)); err != nil || doc != readPolicy {
		t.Fatalf("v1 after restart: %v %q", err, doc)
	}
}

// ListPolicies pages through AWS and customer managed policies in name
// order, each once.
func TestListPoliciesPaging(t *testing.T) {
	e := startIAM(t, t.TempDir())
	for _, n := range []string{"b", "Zed", "a"} {
		if _, err := e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(readPolicy)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := iam.NewListPoliciesPaginator(e.iam, &iam.ListPoliciesInput{MaxItems: aws.Int32(2)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Policies) > 2 {
			t.Fatalf("a page of %d", len(page.Policies))
		}
		for _, p := range page.Policies {
			names = append(names, aws.ToString(p.PolicyName))
		}
	}
	want := "a AdministratorAccess AmazonECSTaskExecutionRolePolicy AmazonS3ReadOnlyAccess AmazonSSMReadOnlyAccess b Zed"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("ListPolicies: %s, want %s", got, want)
	}
	awsOnly, err := e.iam.ListPolicies(e.ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, PathPrefix: aws.String("/service-role/")})
	if err != nil || len(awsOnly.Policies) != 1 || aws.ToString(awsOnly.Policies[0].Arn) != execPolicyARN {
		t.Fatalf("ListPolicies AWS /service-role/: %v %+v", err, awsOnly)
	}
}
