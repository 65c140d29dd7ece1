package secretsapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/seal"
	"berth.dev/berth/internal/secretsapi"
	"berth.dev/berth/internal/sigv4"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	keyID   = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var namer = arn.Namer{Partition: "aws", Region: region, Account: account}

type sigAuth struct{}

func (sigAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		e, _ := apierr.As(err)
		return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
	}
	return namer.Root(), nil
}

// proposer applies commands straight to a machine and keeps the entries.
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

type env struct {
	c   *sm.Client
	api *secretsapi.API
	m   *fsm.Machine
	p   *proposer
	mu  sync.Mutex
	now time.Time
	n   int
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	sealer, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{m: m, p: &proposer{m: m}, now: time.Now()}
	e.api = secretsapi.New(secretsapi.Config{Region: region, Account: account, State: m, Proposer: e.p, Sealer: sealer,
		Now: e.clock, NewSuffix: func() string {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.n++
			return fmt.Sprintf("Ab%04d", e.n)
		}})
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{e.api.Service()}, Auth: sigAuth{}})
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	e.c = sm.New(sm.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1})
	return e
}

var ctx = context.Background()

const prefix = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

// wantErr checks an error's type and its message (a prefix of it).
func wantErr[T error](t *testing.T, err error, msg string) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v, want %T", err, target)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && !strings.HasPrefix(ae.ErrorMessage(), msg) {
		t.Fatalf("message %q, want %q", ae.ErrorMessage(), msg)
	}
}

func tok(n int) *string { return aws.String(fmt.Sprintf("%032d", n)) }

func (e *env) create(t *testing.T, in *sm.CreateSecretInput) *sm.CreateSecretOutput {
	t.Helper()
	out, err := e.c.CreateSecret(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) value(t *testing.T, in *sm.GetSecretValueInput) *sm.GetSecretValueOutput {
	t.Helper()
	out, err := e.c.GetSecretValue(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFullFlow(t *testing.T) {
	e := newEnv(t)
	out := e.create(t, &sm.CreateSecretInput{Name: aws.String("prod/db"), Description: aws.String("the database"),
		KmsKeyId: aws.String("alias/mine"), SecretString: aws.String(`{"username":"admin","password":"p1"}`),
		ClientRequestToken: tok(1), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if aws.ToString(out.ARN) != prefix+"prod/db-Ab0001" || aws.ToString(out.Name) != "prod/db" || aws.ToString(out.VersionId) != *tok(1) {
		t.Fatalf("create: %+v", out)
	}
	// Repeating the request with the same token and value is ignored.
	again := e.create(t, &sm.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String(`{"username":"admin","password":"p1"}`), ClientRequestToken: tok(1)})
	if aws.ToString(again.ARN) != aws.ToString(out.ARN) {
		t.Fatalf("repeated create: %+v", again)
	}
	_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String("x")})
	wantErr[*types.ResourceExistsException](t, err, "The operation failed because the secret prod/db already exists.")

	for _, id := range []string{"prod/db", aws.ToString(out.ARN), prefix + "prod/db"} {
		v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		if aws.ToString(v.SecretString) != `{"username":"admin","password":"p1"}` || aws.ToString(v.VersionId) != *tok(1) ||
			!slices.Equal(v.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(v.ARN) != aws.ToString(out.ARN) || v.CreatedDate == nil {
			t.Fatalf("get by %s: %+v", id, v)
		}
	}
	d, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Description) != "the database" || aws.ToString(d.KmsKeyId) != "alias/mine" || len(d.Tags) != 1 ||
		!slices.Equal(d.VersionIdsToStages[*tok(1)], []string{"AWSCURRENT"}) || d.DeletedDate != nil || d.CreatedDate == nil {
		t.Fatalf("describe: %+v", d)
	}
	u, err := e.c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("prod/db"), Description: aws.String("changed"), SecretString: aws.String("v2"), ClientRequestToken: tok(2)})
	if err != nil || aws.ToString(u.VersionId) != *tok(2) {
		t.Fatalf("update: %+v %v", u, err)
	}
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("prod/db")}); aws.ToString(v.SecretString) != "v2" {
		t.Fatalf("after update: %+v", v)
	}
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("prod/db"), VersionStage: aws.String("AWSPREVIOUS")}); aws.ToString(v.VersionId) != *tok(1) {
		t.Fatalf("previous: %+v", v)
	}
	// Binary values travel in base64 and come back as they were.
	bin := []byte{0, 1, 2, 0xff, 'x'}
	b := e.create(t, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin})
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: b.ARN}); !bytes.Equal(v.SecretBinary, bin) || v.SecretString != nil {
		t.Fatalf("binary: %+v", v)
	}
	// A secret without a value has no AWSCURRENT version.
	e.create(t, &sm.CreateSecretInput{Name: aws.String("empty")})
	_, err = e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("empty")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	// Batch: values and errors.
	bo, err := e.c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"prod/db", "nope", "bin"}})
	if err != nil || len(bo.SecretValues) != 2 || len(bo.Errors) != 1 || aws.ToString(bo.Errors[0].ErrorCode) != "ResourceNotFoundException" || aws.ToString(bo.Errors[0].SecretId) != "nope" {
		t.Fatalf("batch: %+v %v", bo, err)
	}
	bo, err = e.c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"prod/"}}}})
	if err != nil || len(bo.SecretValues) != 1 || aws.ToString(bo.SecretValues[0].SecretString) != "v2" {
		t.Fatalf("batch by filter: %+v %v", bo, err)
	}
	// Rotation Lambdas are refused clearly.
	_, err = e.c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("prod/db")})
	wantErr[*types.InvalidRequestException](t, err, "berth does not rotate secrets")
}

func stagesOf(t *testing.T, e *env, id string) map[string][]string {
	t.Helper()
	d, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.VersionIdsToStages {
		slices.Sort(s)
	}
	return d.VersionIdsToStages
}

func TestVersionsAndStagingLabels(t *testing.T) {
	e := newEnv(t)
	e.create(t, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one"), ClientRequestToken: tok(1)})
	put := func(n int, v string, stages ...string) *sm.PutSecretValueOutput {
		t.Helper()
		out, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(v), ClientRequestToken: tok(n), VersionStages: stages})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Rotation by PutSecretValue: the new value is AWSCURRENT, the old AWSPREVIOUS.
	if out := put(2, "two"); !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(out.VersionId) != *tok(2) {
		t.Fatalf("put: %+v", out)
	}
	if got := stagesOf(t, e, "s"); len(got) != 2 || !slices.Equal(got[*tok(1)], []string{"AWSPREVIOUS"}) || !slices.Equal(got[*tok(2)], []string{"AWSCURRENT"}) {
		t.Fatalf("after rotation: %v", got)
	}
	put(3, "three")
	if got := stagesOf(t, e, "s"); len(got) != 2 || !slices.Equal(got[*tok(2)], []string{"AWSPREVIOUS"}) || !slices.Equal(got[*tok(3)], []string{"AWSCURRENT"}) {
		t.Fatalf("after second rotation: %v", got)
	}
	// Idempotent: same token and value; a different value is refused.
	if out := put(3, "three"); aws.ToString(out.VersionId) != *tok(3) {
		t.Fatalf("repeat: %+v", out)
	}
	_, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("other"), ClientRequestToken: tok(3)})
	wantErr[*types.ResourceExistsException](t, err, "You can't modify an existing version, you can only create a new version.")
	// A custom label leaves AWSCURRENT where it is.
	put(4, "four", "blue")
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("blue")}); aws.ToString(v.SecretString) != "four" {
		t.Fatalf("blue: %+v", v)
	}
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("s")}); aws.ToString(v.SecretString) != "three" {
		t.Fatalf("current: %+v", v)
	}
	// By version ID, and by version ID and stage together.
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: tok(1)}); aws.ToString(v.SecretString) != "one" || len(v.VersionStages) != 0 {
		t.Fatalf("version 1: %+v", v)
	}
	_, err = e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: tok(1), VersionStage: aws.String("AWSCURRENT")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for VersionId: "+*tok(1))
	_, err = e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: tok(99)})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for VersionId: ")
	_, err = e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("green")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for staging label: green")

	// UpdateSecretVersionStage: moving AWSCURRENT moves AWSPREVIOUS.
	_, err = e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: tok(4)})
	wantErr[*types.InvalidParameterException](t, err, "The staging label AWSCURRENT is currently attached to version")
	_, err = e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: tok(4), RemoveFromVersionId: tok(2)})
	wantErr[*types.InvalidParameterException](t, err, "The parameter RemoveFromVersionId doesn't match")
	if _, err := e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: tok(4), RemoveFromVersionId: tok(3)}); err != nil {
		t.Fatal(err)
	}
	if got := stagesOf(t, e, "s"); !slices.Equal(got[*tok(4)], []string{"AWSCURRENT", "blue"}) || !slices.Equal(got[*tok(3)], []string{"AWSPREVIOUS"}) || got[*tok(2)] != nil {
		t.Fatalf("after moving AWSCURRENT: %v", got)
	}
	// Removing a custom label; AWSCURRENT cannot just be removed.
	if _, err := e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("blue"), RemoveFromVersionId: tok(4)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: tok(4)})
	wantErr[*types.InvalidParameterException](t, err, "You can't remove the staging label AWSCURRENT")
	_, err = e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("x"), MoveToVersionId: tok(77)})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for VersionId: ")

	// ListSecretVersionIds: labelled versions, or all of them, paged.
	lv, err := e.c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s")})
	if err != nil || len(lv.Versions) != 2 || aws.ToString(lv.Name) != "s" {
		t.Fatalf("versions: %+v %v", lv, err)
	}
	var ids []string
	p := sm.NewListSecretVersionIdsPaginator(e.c, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			ids = append(ids, aws.ToString(v.VersionId))
		}
	}
	if !slices.Equal(ids, []string{*tok(4), *tok(3), *tok(2), *tok(1)}) {
		t.Fatalf("all versions: %v", ids)
	}
}

func TestDeleteAndRestore(t *testing.T) {
	e := newEnv(t)
	out := e.create(t, &sm.CreateSecretInput{Name: aws.String("d"), SecretString: aws.String("v")})
	_, err := e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(6)})
	wantErr[*types.InvalidParameterException](t, err, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	_, err = e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(31)})
	wantErr[*types.InvalidParameterException](t, err, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	_, err = e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantErr[*types.InvalidParameterException](t, err, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	_, err = e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("nope")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")

	del, err := e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d")})
	if err != nil || aws.ToString(del.ARN) != aws.ToString(out.ARN) || del.DeletionDate == nil {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if days := del.DeletionDate.Sub(e.clock()).Hours() / 24; days < 29.9 || days > 30.1 {
		t.Fatalf("deletion in %v days, want 30", days)
	}
	// Reads and changes are refused; Describe shows DeletedDate.
	_, err = e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("d")})
	wantErr[*types.InvalidRequestException](t, err, "You can't perform this operation on the secret because it was marked for deletion.")
	_, err = e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("d"), SecretString: aws.String("w")})
	wantErr[*types.InvalidRequestException](t, err, "You can't perform this operation on the secret because it was marked for deletion.")
	_, err = e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d")})
	wantErr[*types.InvalidRequestException](t, err, "You can't perform this operation on the secret because it was already scheduled for deletion.")
	_, err = e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("d"), SecretString: aws.String("x")})
	wantErr[*types.InvalidRequestException](t, err, "You can't create this secret because a secret with this name is already scheduled for deletion.")
	d, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("d")})
	if err != nil || d.DeletedDate == nil {
		t.Fatalf("describe deleted: %+v %v", d, err)
	}
	if ls, _ := e.c.ListSecrets(ctx, &sm.ListSecretsInput{}); len(ls.SecretList) != 0 {
		t.Fatalf("deleted secrets listed: %+v", ls.SecretList)
	}
	if ls, _ := e.c.ListSecrets(ctx, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); len(ls.SecretList) != 1 || ls.SecretList[0].DeletedDate == nil {
		t.Fatalf("IncludePlannedDeletion: %+v", ls.SecretList)
	}
	if r, err := e.c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("d")}); err != nil || aws.ToString(r.Name) != "d" {
		t.Fatalf("restore: %+v %v", r, err)
	}
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("d")}); aws.ToString(v.SecretString) != "v" {
		t.Fatalf("after restore: %+v", v)
	}
	// Past its deletion date a secret is gone, and its name is free.
	if _, err := e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	e.advance(7*24*time.Hour + time.Minute)
	_, err = e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("d")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	_, err = e.c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("d")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	// Force deletion: gone at once, name free at once.
	e2 := newEnv(t)
	e2.create(t, &sm.CreateSecretInput{Name: aws.String("f"), SecretString: aws.String("v")})
	if _, err := e2.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("f"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e2.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("f")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	again := e2.create(t, &sm.CreateSecretInput{Name: aws.String("f"), SecretString: aws.String("new")})
	if aws.ToString(again.ARN) != prefix+"f-Ab0002" {
		t.Fatalf("recreated: %+v", again)
	}
	// Force-deleting what does not exist is no error.
	if _, err := e2.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("never"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

func names(l []types.SecretListEntry) []string {
	var out []string
	for _, s := range l {
		out = append(out, aws.ToString(s.Name))
	}
	return out
}

func TestListSecretsFiltersAndPaging(t *testing.T) {
	e := newEnv(t)
	mk := func(name, desc string, tags ...string) {
		in := &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}
		if desc != "" {
			in.Description = aws.String(desc)
		}
		for i := 0; i < len(tags); i += 2 {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		e.create(t, in)
		e.advance(time.Second)
	}
	mk("prod/db", "Primary database", "env", "prod", "team", "data")
	mk("prod/api", "API key", "env", "prod")
	mk("dev/db", "dev database", "env", "dev")
	mk("other", "")
	list := func(in *sm.ListSecretsInput) []string {
		t.Helper()
		out, err := e.c.ListSecrets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return names(out.SecretList)
	}
	f := func(k types.FilterNameStringType, v ...string) types.Filter { return types.Filter{Key: k, Values: v} }
	cases := []struct {
		filters []types.Filter
		want    []string
	}{
		{[]types.Filter{f("name", "prod/")}, []string{"prod/api", "prod/db"}},
		{[]types.Filter{f("name", "Prod/")}, nil}, // case-sensitive
		{[]types.Filter{f("name", "!prod/")}, []string{"dev/db", "other"}},
		{[]types.Filter{f("name", "dev", "other")}, []string{"dev/db", "other"}},
		{[]types.Filter{f("description", "primary")}, []string{"prod/db"}}, // not case-sensitive
		{[]types.Filter{f("tag-key", "te")}, []string{"prod/db"}},
		{[]types.Filter{f("tag-value", "prod")}, []string{"prod/api", "prod/db"}},
		{[]types.Filter{f("tag-value", "prod"), f("tag-key", "team")}, []string{"prod/db"}},
		{[]types.Filter{f("all", "DATABASE")}, []string{"dev/db", "prod/db"}},
		{[]types.Filter{f("primary-region", "us-east")}, []string{"dev/db", "other", "prod/api", "prod/db"}},
		{[]types.Filter{f("owning-service", "ecs")}, nil},
	}
	for _, c := range cases {
		got := list(&sm.ListSecretsInput{Filters: c.filters, SortBy: types.SortByTypeName, SortOrder: types.SortOrderTypeAsc})
		if !slices.Equal(got, c.want) {
			t.Errorf("filters %+v: %v, want %v", c.filters, got, c.want)
		}
	}
	if got := list(&sm.ListSecretsInput{SortBy: types.SortByTypeName, SortOrder: types.SortOrderTypeDesc}); !slices.Equal(got, []string{"prod/db", "prod/api", "other", "dev/db"}) {
		t.Fatalf("by name desc: %v", got)
	}
	var paged []string
	p := sm.NewListSecretsPaginator(e.c, &sm.ListSecretsInput{MaxResults: aws.Int32(3), SortOrder: types.SortOrderTypeAsc})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		paged = append(paged, names(page.SecretList)...)
	}
	if pages != 2 || len(paged) != 4 {
		t.Fatalf("paged: %d pages, %v", pages, paged)
	}
	out, _ := e.c.ListSecrets(ctx, &sm.ListSecretsInput{Filters: []types.Filter{f("name", "prod/db")}})
	if len(out.SecretList) != 1 || len(out.SecretList[0].Tags) != 2 || len(out.SecretList[0].SecretVersionsToStages) != 1 || out.SecretList[0].CreatedDate == nil {
		t.Fatalf("entry: %+v", out.SecretList)
	}
	_, err := e.c.ListSecrets(ctx, &sm.ListSecretsInput{NextToken: aws.String("garbage")})
	wantErr[*types.InvalidNextTokenException](t, err, "The NextToken value is invalid.")
	_, err = e.c.ListSecrets(ctx, &sm.ListSecretsInput{Filters: []types.Filter{f("colour", "x")}})
	wantErr[*types.InvalidParameterException](t, err, "Invalid filter key")
	_, err = e.c.ListSecrets(ctx, &sm.ListSecretsInput{Filters: []types.Filter{f("name", "a#b")}})
	wantErr[*types.InvalidParameterException](t, err, "Invalid filter value")
	_, err = e.c.ListSecrets(ctx, &sm.ListSecretsInput{MaxResults: aws.Int32(101)})
	wantErr[*types.InvalidParameterException](t, err, "MaxResults must be between 1 and 100.")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	e.create(t, &sm.CreateSecretInput{Name: aws.String("t"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if _, err := e.c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("t"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("t"), TagKeys: []string{"b", "zz"}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("t")})
	if err != nil || len(d.Tags) != 1 || aws.ToString(d.Tags[0].Value) != "2" {
		t.Fatalf("tags: %+v %v", d.Tags, err)
	}
	_, err = e.c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("t"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("2")}}})
	wantErr[*types.InvalidParameterException](t, err, "Tag keys beginning with aws: are reserved")
	many := make([]types.Tag, 0, 50)
	for i := range 50 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
	}
	_, err = e.c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("t"), Tags: many})
	wantErr[*types.LimitExceededException](t, err, "The secret would have 51 tags")
	_, err = e.c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("missing"), Tags: many[:1]})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.create(t, &sm.CreateSecretInput{Name: aws.String("ok"), SecretString: aws.String("v")})
	long := strings.Repeat("a", 513)
	cases := []struct {
		name string
		call func() error
		want func(error)
	}{
		{"bad name", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bad name!")})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}},
		{"long name", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(long)})
			return err
		},
			func(err error) { wantErr[*types.InvalidParameterException](t, err, "Invalid name.") }},
		{"both values", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "You can't specify both a binary secret value and a string secret value in the same secret.")
		}},
		{"too large", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String(strings.Repeat("v", 65537))})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "The SecretString is larger than 65536 bytes.")
		}},
		{"largest", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("big"), SecretBinary: bytes.Repeat([]byte{1}, 65536)})
			return err
		}, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"short token", func() error {
			_, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("ok"), SecretString: aws.String("a"), ClientRequestToken: aws.String("short")})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "ClientRequestToken must be 32 to 64 characters long.")
		}},
		{"no value", func() error {
			_, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("ok")})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "You must provide either SecretString or SecretBinary.")
		}},
		{"unknown secret", func() error {
			_, err := e.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("missing")})
			return err
		}, func(err error) {
			wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
		}},
		{"unknown ARN", func() error {
			_, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(prefix + "ok-XXXXXX")})
			return err
		}, func(err error) {
			wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
		}},
		{"other account", func() error {
			_, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:999999999999:secret:ok")})
			return err
		}, func(err error) {
			wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
		}},
		{"replicas", func() error {
			_, err := e.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("r"), AddReplicaRegions: []types.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
			return err
		}, func(err error) { wantErr[*types.InvalidRequestException](t, err, "berth does not replicate secrets") }},
		{"stage too long", func() error {
			_, err := e.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("ok"), VersionStage: aws.String(strings.Repeat("s", 257)), MoveToVersionId: tok(1)})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "A staging label must be 1 to 256 characters long.")
		}},
		{"batch both", func() error {
			_, err := e.c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"ok"}, Filters: []types.Filter{{Key: "name", Values: []string{"o"}}}})
			return err
		}, func(err error) {
			wantErr[*types.InvalidParameterException](t, err, "Either SecretIdList or Filters must be provided")
		}},
		{"unserved", func() error {
			_, err := e.c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{})
			return err
		}, func(err error) {
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" {
				t.Fatalf("unserved: %v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want(c.call()) })
	}
	// A hyphen and six characters at the end of a name is legal (AWS only
	// warns), and such a name still resolves by name.
	e.create(t, &sm.CreateSecretInput{Name: aws.String("looks-AbCdEf"), SecretString: aws.String("v")})
	if v := e.value(t, &sm.GetSecretValueInput{SecretId: aws.String("looks-AbCdEf")}); aws.ToString(v.SecretString) != "v" {
		t.Fatalf("suffix-like name: %+v", v)
	}
}

// The raft log and the snapshot hold sealed values only.
func TestLogAndSnapshotHoldNoPlaintext(t *testing.T) {
	e := newEnv(t)
	const plain = "very-secret-plaintext-4711"
	e.create(t, &sm.CreateSecretInput{Name: aws.String("p"), SecretString: aws.String(plain)})
	if _, err := e.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("p"), SecretBinary: []byte(plain + "-bin")}); err != nil {
		t.Fatal(err)
	}
	for i, entry := range e.p.entries {
		if bytes.Contains(entry, []byte(plain)) {
			t.Fatalf("log entry %d holds the value", i)
		}
	}
	var dump bytes.Buffer
	if err := fsm.Persist(e.m.Snapshot(), &dump); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dump.Bytes(), []byte(plain)) || !bytes.Contains(dump.Bytes(), []byte(`"smsecrets"`)) {
		t.Fatal("the snapshot holds the value, or no secret")
	}
	d, err := e.c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("p")})
	if err != nil || strings.Contains(fmt.Sprintf("%+v", d), plain) {
		t.Fatalf("describe: %v", err)
	}
}
