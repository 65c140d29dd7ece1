package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testAccount = "123456789012"
	ecsTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	rootTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	readPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}`
)

// movableClock is the credentials clock the tests move.
type movableClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

type iamEnv struct {
	s     *Server
	iam   *iam.Client
	sts   *sts.Client
	clock *movableClock
	logs  *syncBuffer
	ctx   context.Context
}

func startIAM(t *testing.T, dir string) *iamEnv {
	t.Helper()
	var logs syncBuffer
	clock := &movableClock{}
	cfg := testConfig(dir, "us-east-1", testAccount)
	cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.CredentialsClock = clock.Now
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	waitFor(t, "leadership", func() bool { return s.Node().IsLeader() })
	creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
	return &iamEnv{s: s, clock: clock, logs: &logs, ctx: ctx,
		iam: iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds}),
		sts: sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds})}
}

// wantErr checks an SDK error's code, HTTP status and message (a
// substring; "" skips it).
func wantErr(t *testing.T, what string, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
	var re *smithyhttp.ResponseError
	st := 0
	if errors.As(err, &re) {
		st = re.HTTPStatusCode()
	}
	if ae.ErrorCode() != code || st != status || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: got %s %d %q, want %s %d %q", what, ae.ErrorCode(), st, ae.ErrorMessage(), code, status, msg)
	}
}

func TestIAMRoleLifecycle(t *testing.T) {
	e := startIAM(t, t.TempDir())
	ctx := e.ctx
	out, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), Path: aws.String("/svc/"),
		AssumeRolePolicyDocument: aws.String(ecsTrust), Description: aws.String("the app"), MaxSessionDuration: aws.Int32(7200),
		PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/PowerUserAccess"),
		Tags:                []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/svc/app" || !regexp.MustCompile(`^AROA[A-Z0-9]{17}$`).MatchString(aws.ToString(r.RoleId)) ||
		aws.ToInt32(r.MaxSessionDuration) != 7200 || aws.ToString(r.Path) != "/svc/" || r.CreateDate == nil {
		t.Fatalf("created %+v", r)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); doc != ecsTrust || !strings.HasPrefix(aws.ToString(r.AssumeRolePolicyDocument), "%7B") {
		t.Fatalf("trust policy on output: %q (want URL-encoded)", aws.ToString(r.AssumeRolePolicyDocument))
	}
	got, err := e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("APP")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Role.Description) != "the app" || got.Role.PermissionsBoundary == nil ||
		aws.ToString(got.Role.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/PowerUserAccess" || len(got.Role.Tags) != 1 {
		t.Fatalf("GetRole %+v", got.Role)
	}
	_, err = e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("App"), AssumeRolePolicyDocument: aws.String(ecsTrust)})
	wantErr(t, "duplicate", err, "EntityAlreadyExists", 409, "Role with name App already exists.")

	// more roles, listing with paths and pages
	for _, n := range []string{"b1", "b2", "b3"} {
		if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), Path: aws.String("/batch/"), AssumeRolePolicyDocument: aws.String(rootTrust)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var marker *string
	for pages := 0; ; pages++ {
		l, err := e.iam.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/batch/"), MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
		if !l.IsTruncated {
			break
		}
		marker = l.Marker
		if pages > 3 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(names, ",") != "b1,b2,b3" {
		t.Fatalf("ListRoles /batch/: %v", names)
	}
	all, err := e.iam.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(all.Roles) != 4 || all.IsTruncated {
		t.Fatalf("ListRoles: %v %+v", err, all)
	}

	// updates
	if _, err := e.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("app"), Description: aws.String("new"), MaxSessionDuration: aws.Int32(3600)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String(rootTrust)}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	if doc, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); doc != rootTrust || aws.ToString(got.Role.Description) != "new" || aws.ToInt32(got.Role.MaxSessionDuration) != 3600 {
		t.Fatalf("after updates %+v", got.Role)
	}

	// inline policies
	if _, err := e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readPolicy)}); err != nil {
		t.Fatal(err)
	}
	gp, err := e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); doc != readPolicy {
		t.Fatalf("GetRolePolicy %q", aws.ToString(gp.PolicyDocument))
	}
	lp, err := e.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("app")})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "read" {
		t.Fatalf("ListRolePolicies %v %+v", err, lp)
	}
	_, err = e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("nope")})
	wantErr(t, "missing inline policy", err, "NoSuchEntity", 404, "The role policy with name nope cannot be found.")

	// attached policies (a customer managed one must exist)
	_, err = e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/team/mine")})
	wantErr(t, "attach a missing customer managed policy", err, "NoSuchEntity", 404, "Policy arn:aws:iam::123456789012:policy/team/mine does not exist or is not attachable.")
	if _, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"), Path: aws.String("/team/"), PolicyDocument: aws.String(readPolicy)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/team/mine"} {
		if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
	}
	la, err := e.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app")})
	if err != nil || len(la.AttachedPolicies) != 2 || aws.ToString(la.AttachedPolicies[0].PolicyName) != "mine" {
		t.Fatalf("ListAttachedRolePolicies %v %+v", err, la)
	}
	_, err = e.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Other")})
	wantErr(t, "detach not attached", err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/Other was not found.")
	_, err = e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:s3:::bucket/policy")})
	wantErr(t, "attach a non-policy ARN", err, "InvalidInput", 400, "is not valid")

	// tags
	if _, err := e.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("app"), Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("TEAM"), Value: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("app"), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := e.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("app")})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "TEAM" || aws.ToString(lt.Tags[0].Value) != "b" {
		t.Fatalf("ListRoleTags %v %+v", err, lt)
	}

	// deletion needs the policies gone
	_, err = e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	wantErr(t, "delete with policies", err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	if _, err := e.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	wantErr(t, "delete with attached policies", err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	for _, p := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/team/mine"} {
		if _, err := e.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	wantErr(t, "deleted", err, "NoSuchEntity", 404, "The role with name app cannot be found.")
}

func TestIAMBadInput(t *testing.T) {
	e := startIAM(t, t.TempDir())
	ctx := e.ctx
	cases := []struct {
		name   string
		in     *iam.CreateRoleInput
		code   string
		status int
		msg    string
	}{
		{"bad name", &iam.CreateRoleInput{RoleName: aws.String("a b"), AssumeRolePolicyDocument: aws.String(ecsTrust)}, "ValidationError", 400, "Value 'a b' at 'roleName'"},
		{"long name", &iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("a", 65)), AssumeRolePolicyDocument: aws.String(ecsTrust)}, "ValidationError", 400, "length less than or equal to 64"},
		{"bad path", &iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("svc"), AssumeRolePolicyDocument: aws.String(ecsTrust)}, "ValidationError", 400, "at 'path'"},
		{"short session", &iam.CreateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(100), AssumeRolePolicyDocument: aws.String(ecsTrust)}, "ValidationError", 400, "greater than or equal to 3600"},
		{"long session", &iam.CreateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(43201), AssumeRolePolicyDocument: aws.String(ecsTrust)}, "ValidationError", 400, "less than or equal to 43200"},
		{"not json", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{")}, "MalformedPolicyDocument", 400, "Syntax errors in policy."},
		{"no principal", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}, "MalformedPolicyDocument", 400, "Missing required field Principal"},
		{"bad version", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`)}, "MalformedPolicyDocument", 400, "The policy failed legacy parsing"},
		{"aws tag", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ecsTrust), Tags: []iamtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidInput", 400, "aws: prefix"},
		{"bad boundary", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ecsTrust), PermissionsBoundary: aws.String("nope")}, "InvalidInput", 400, "ARN nope is not valid."},
	}
	for _, c := range cases {
		_, err := e.iam.CreateRole(ctx, c.in)
		wantErr(t, c.name, err, c.code, c.status, c.msg)
	}
	var tags []iamtypes.Tag
	for i := range 51 {
		tags = append(tags, iamtypes.Tag{Key: aws.String("k" + strings.Repeat("x", i)), Value: aws.String("v")})
	}
	_, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ecsTrust), Tags: tags})
	wantErr(t, "too many tags", err, "LimitExceeded", 409, "TagsPerRole: 50")

	if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(ecsTrust)})
	wantErr(t, "inline policy with a principal", err, "MalformedPolicyDocument", 400, "Policy document should not specify a principal.")
	_, err = e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("nope"), PolicyName: aws.String("p"), PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "inline policy of no role", err, "NoSuchEntity", 404, "The role with name nope cannot be found.")
	_, err = e.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(readPolicy)})
	wantErr(t, "trust policy with a resource", err, "MalformedPolicyDocument", 400, "Has prohibited field Resource")
	for i := range 10 {
		if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/P" + strings.Repeat("x", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Eleventh")})
	wantErr(t, "eleventh attached policy", err, "LimitExceeded", 409, "PoliciesPerRole: 10")
	_, err = e.iam.ListRoles(ctx, &iam.ListRolesInput{Marker: aws.String("!!")})
	wantErr(t, "bad marker", err, "InvalidInput", 400, "")
	_, err = e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ghost")})
	wantErr(t, "delete missing", err, "NoSuchEntity", 404, "The role with name ghost cannot be found.")
}

func TestAssumeRoleAndTemporaryCredentials(t *testing.T) {
	dir := t.TempDir()
	e := startIAM(t, dir)
	ctx := e.ctx
	id, err := e.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(id.Account) != testAccount || aws.ToString(id.UserId) != testAccount {
		t.Fatalf("root identity %+v", id)
	}
	created, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(rootTrust)})
	if err != nil {
		t.Fatal(err)
	}
	roleID := aws.ToString(created.Role.RoleId)
	if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"), AssumeRolePolicyDocument: aws.String(ecsTrust)}); err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::123456789012:role/ci/deployer"

	// bad input
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("a")})
	wantErr(t, "short session name", err, "ValidationError", 400, "roleSessionName")
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("a b")})
	wantErr(t, "bad session name", err, "ValidationError", 400, "roleSessionName")
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)})
	wantErr(t, "short duration", err, "ValidationError", 400, "greater than or equal to 900")
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)})
	wantErr(t, "over the role's maximum", err, "ValidationError", 400, "exceeds the MaxSessionDuration")
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), Policy: aws.String("{")})
	wantErr(t, "bad session policy", err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	// trust denial: the task role trusts only ecs-tasks.amazonaws.com
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/task"), RoleSessionName: aws.String("s1")})
	wantErr(t, "untrusted caller", err, "AccessDenied", 403, "is not authorized to perform: sts:AssumeRole")
	_, err = e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ghost"), RoleSessionName: aws.String("s1")})
	wantErr(t, "no such role", err, "AccessDenied", 403, "")

	out, err := e.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-7"), DurationSeconds: aws.Int32(900),
		Policy: aws.String(readPolicy), ExternalId: aws.String("ext"), Tags: []ststypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z0-9]{16}$`).MatchString(aws.ToString(c.AccessKeyId)) || len(aws.ToString(c.SessionToken)) < 100 ||
		c.Expiration == nil || time.Until(*c.Expiration) > 16*time.Minute || time.Until(*c.Expiration) < 14*time.Minute {
		t.Fatalf("credentials %s expiring %v", aws.ToString(c.AccessKeyId), c.Expiration)
	}
	wantARN := "arn:aws:sts::123456789012:assumed-role/deployer/build-7"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || aws.ToString(out.AssumedRoleUser.AssumedRoleId) != roleID+":build-7" {
		t.Fatalf("assumed role user %+v", out.AssumedRoleUser)
	}

	temp := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	tempSTS := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: temp})
	tid, err := tempSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(tid.Arn) != wantARN || aws.ToString(tid.UserId) != roleID+":build-7" || aws.ToString(tid.Account) != testAccount {
		t.Fatalf("assumed identity %+v", tid)
	}
	tempECS := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: temp})
	if _, err := tempECS.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ECS with temporary credentials: %v", err)
	}
	// the recorded principal of a change is the assumed role
	td, err := tempECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("by-role"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(td.TaskDefinition.RegisteredBy); got != wantARN {
		t.Fatalf("registeredBy %q, want %q", got, wantARN)
	}

	// a temporary key without its token, or with a wrong one, is refused
	noToken := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "")
	_, err = sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: noToken}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, "no token (Query)", err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: noToken}).ListClusters(ctx, &ecs.ListClustersInput{})
	wantErr(t, "no token (JSON)", err, "UnrecognizedClientException", 400, "The security token included in the request is invalid.")
	wrong := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)+"x")
	_, err = sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: wrong}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, "wrong token", err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	// the root key with a token is refused too
	rootTok := credentials.NewStaticCredentialsProvider("AKIATESTKEY000000001", "testsecret/abcdefghijklmnopqrstuvwxyz0123", aws.ToString(c.SessionToken))
	_, err = sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.Endpoint()), Credentials: rootTok}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, "root key with a token", err, "InvalidClientTokenId", 403, "")

	// role chaining: the assumed role assumes a role that trusts the account
	chained, err := tempSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chained")})
	if err != nil {
		t.Fatalf("role chaining: %v", err)
	}
	if aws.ToString(chained.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/deployer/chained" {
		t.Fatalf("chained %+v", chained.AssumedRoleUser)
	}

	// the server issues task credentials for roles that trust ECS tasks
	tc, err := e.s.STS().IssueRoleCredentials(ctx, "arn:aws:iam::123456789012:role/task", "task-1234", 0)
	if err != nil {
		t.Fatal(err)
	}
	if tc.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/task/task-1234" || strings.Contains(tc.String(), tc.SecretAccessKey) || strings.Contains(tc.String(), tc.SessionToken) {
		t.Fatalf("task credentials %v", tc)
	}
	if _, err := e.s.STS().IssueRoleCredentials(ctx, roleARN, "task-1234", 0); err == nil {
		t.Fatal("task credentials for a role that does not trust ECS tasks were issued")
	}

	// expiry follows the credentials clock
	e.clock.advance(16 * time.Minute)
	_, err = tempSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, "expired (Query)", err, "ExpiredToken", 403, "The security token included in the request is expired")
	_, err = tempECS.ListClusters(ctx, &ecs.ListClustersInput{})
	wantErr(t, "expired (JSON)", err, "ExpiredTokenException", 400, "The security token included in the request is expired")

	// secrets and tokens are nowhere the server writes
	secrets := []string{aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken), aws.ToString(chained.Credentials.SecretAccessKey),
		aws.ToString(chained.Credentials.SessionToken), tc.SecretAccessKey, tc.SessionToken}
	if err := e.s.Node().Snapshot(); err != nil {
		t.Logf("snapshot: %v", err)
	}
	e.s.Close()
	assertNowhere(t, dir, e.logs.String(), secrets)
}

// assertNowhere fails when any secret appears in a file of dir or in logs.
func assertNowhere(t *testing.T, dir, logs string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret or token", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files in the data dir")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Error("the server's log holds a secret or token")
		}
	}
}

// Roles and temporary credentials survive a restart (they are replicated
// state; the credentials' secrets sealed).
func TestRolesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	e := startIAM(t, dir)
	if _, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("keep"), AssumeRolePolicyDocument: aws.String(rootTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("keep"), PolicyName: aws.String("p"), PolicyDocument: aws.String(readPolicy)}); err != nil {
		t.Fatal(err)
	}
	out, err := e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/keep"), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	e.s.Close()
	e2 := startIAM(t, dir)
	got, err := e2.iam.GetRole(e2.ctx, &iam.GetRoleInput{RoleName: aws.String("keep")})
	if err != nil || aws.ToString(got.Role.RoleName) != "keep" {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := e2.iam.GetRolePolicy(e2.ctx, &iam.GetRolePolicyInput{RoleName: aws.String("keep"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	temp := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id, err := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e2.s.Endpoint()), Credentials: temp}).GetCallerIdentity(e2.ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::123456789012:assumed-role/keep/s1" {
		t.Fatalf("credentials after a restart: %v", err)
	}
	e2.s.Close()
	assertNowhere(t, dir, e.logs.String()+e2.logs.String(), []string{aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)})
}

// signedQuery sends a Query request signed with creds: POST with a form
// body, or (presign) a presigned GET whose security token rides in the
// query string.
func signedQuery(t *testing.T, ctx context.Context, endpoint, service string, creds aws.Credentials, form string, presign bool) (int, string) {
	t.Helper()
	var req *http.Request
	var err error
	signer := v4.NewSigner()
	if presign {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/?"+form+"&X-Amz-Expires=60", nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _, err := signer.PresignHTTP(ctx, creds, req, hex.EncodeToString(sha256.New().Sum(nil)), service, "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if creds.SessionToken != "" && !strings.Contains(u, "X-Amz-Security-Token=") {
			t.Fatalf("presigned URL without the token: %s", u)
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(form))
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// What the SDKs do not send: a CreateRole without its trust policy, and a
// presigned GetCallerIdentity of temporary credentials (the token in the
// query string, as EKS-style tokens carry it).
func TestIAMRawQuery(t *testing.T) {
	e := startIAM(t, t.TempDir())
	root := aws.Credentials{AccessKeyID: "AKIATESTKEY000000001", SecretAccessKey: "testsecret/abcdefghijklmnopqrstuvwxyz0123"}
	st, body := signedQuery(t, e.ctx, e.s.Endpoint(), "iam", root, "Action=CreateRole&Version=2010-05-08&RoleName=r", false)
	if st != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") ||
		!strings.Contains(body, "Value null at &#39;assumeRolePolicyDocument&#39; failed to satisfy constraint: Member must not be null") ||
		!strings.Contains(body, `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`) {
		t.Fatalf("CreateRole without a trust policy: %d %s", st, body)
	}
	st, body = signedQuery(t, e.ctx, e.s.Endpoint(), "iam", root, "Action=CreateUser&Version=2010-05-08&UserName=u", false)
	if st != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Fatalf("CreateUser: %d %s", st, body)
	}
	if _, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(rootTrust)}); err != nil {
		t.Fatal(err)
	}
	out, err := e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("eks")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	temp := aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
	st, body = signedQuery(t, e.ctx, e.s.Endpoint(), "sts", temp, "Action=GetCallerIdentity&Version=2011-06-15", true)
	if st != 200 || !strings.Contains(body, "<Arn>arn:aws:sts::123456789012:assumed-role/r/eks</Arn>") ||
		!strings.Contains(body, `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`) {
		t.Fatalf("presigned GetCallerIdentity: %d %s", st, body)
	}
}
