package ssmapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/seal"
	"berth.dev/berth/internal/sigv4"
	"berth.dev/berth/internal/ssmapi"
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
	c   *ssm.Client
	api *ssmapi.API
	m   *fsm.Machine
	p   *proposer
	ctx context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{m: m, p: &proposer{m: m}, ctx: context.Background()}
	e.api = ssmapi.New(ssmapi.Config{Region: region, Account: account, State: m, Proposer: e.p, Sealer: sealer})
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{e.api.Service()}, Auth: sigAuth{}})
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	e.c = ssm.New(ssm.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1})
	return e
}

func (e *env) put(t *testing.T, name, value string, typ types.ParameterType, opts ...func(*ssm.PutParameterInput)) *ssm.PutParameterOutput {
	t.Helper()
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ}
	for _, o := range opts {
		o(in)
	}
	out, err := e.c.PutParameter(e.ctx, in)
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return out
}

func overwrite(in *ssm.PutParameterInput) { in.Overwrite = aws.Bool(true) }

// code returns an error's code and message, or fails.
func code(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func wantCode(t *testing.T, err error, want string) string {
	t.Helper()
	got, msg := code(t, err)
	if got != want {
		t.Fatalf("code %s (%s), want %s", got, msg, want)
	}
	return msg
}

func TestPutGetVersionsOverwrite(t *testing.T) {
	e := newEnv(t)
	out := e.put(t, "/app/url", "http://a", types.ParameterTypeString, func(in *ssm.PutParameterInput) { in.Description = aws.String("the url") })
	if out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("put: %+v", out)
	}
	_, err := e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/url"), Value: aws.String("x"), Type: types.ParameterTypeString})
	var exists *types.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("want ParameterAlreadyExists, got %v", err)
	}
	if out := e.put(t, "/app/url", "http://b", "", overwrite); out.Version != 2 {
		t.Fatalf("overwrite: %+v", out)
	}
	g, err := e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/url")})
	if err != nil {
		t.Fatal(err)
	}
	p := g.Parameter
	if aws.ToString(p.Value) != "http://b" || p.Version != 2 || p.Type != types.ParameterTypeString ||
		aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/app/url" || aws.ToString(p.DataType) != "text" || p.LastModifiedDate == nil {
		t.Fatalf("get: %+v", p)
	}
	g, err = e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/url:1")})
	if err != nil || aws.ToString(g.Parameter.Value) != "http://a" || aws.ToString(g.Parameter.Selector) != ":1" {
		t.Fatalf("get :1: %+v %v", g, err)
	}
	_, err = e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/url:9")})
	var vnf *types.ParameterVersionNotFound
	if !errors.As(err, &vnf) {
		t.Fatalf("want ParameterVersionNotFound, got %v", err)
	}
	_, err = e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/none")})
	var nf *types.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("want ParameterNotFound, got %v", err)
	}
	// A plain name has no hierarchy; its ARN has one slash.
	e.put(t, "plain", "a,b,c", types.ParameterTypeStringList)
	g, err = e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/plain")})
	if err != nil || aws.ToString(g.Parameter.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/plain" || aws.ToString(g.Parameter.Value) != "a,b,c" {
		t.Fatalf("get by ARN: %+v %v", g, err)
	}
	// Changing the type is refused.
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/url"), Value: aws.String("x"), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
	var mism *types.HierarchyTypeMismatchException
	if !errors.As(err, &mism) {
		t.Fatalf("want HierarchyTypeMismatchException, got %v", err)
	}
	// Overwrite keeps the description unless given.
	d, err := e.c.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"/app/url"}}}})
	if err != nil || len(d.Parameters) != 1 || aws.ToString(d.Parameters[0].Description) != "the url" || d.Parameters[0].Version != 2 ||
		aws.ToString(d.Parameters[0].LastModifiedUser) != namer.Root() {
		t.Fatalf("describe: %+v %v", d, err)
	}
}

func TestGetParameters(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/a", "1", types.ParameterTypeString)
	e.put(t, "b", "2", types.ParameterTypeString)
	out, err := e.c.GetParameters(e.ctx, &ssm.GetParametersInput{Names: []string{"/a", "b", "/missing", "b:7", "/a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.Parameters {
		names = append(names, aws.ToString(p.Name)+aws.ToString(p.Selector)+"="+aws.ToString(p.Value))
	}
	if !slices.Equal(names, []string{"/a=1", "b=2", "/a:1=1"}) || !slices.Equal(out.InvalidParameters, []string{"/missing", "b:7"}) {
		t.Fatalf("got %v invalid %v", names, out.InvalidParameters)
	}
	_, err = e.c.GetParameters(e.ctx, &ssm.GetParametersInput{Names: strings.Split("a b c d e f g h i j k", " ")})
	msg := wantCode(t, err, "ValidationException")
	if !strings.HasPrefix(msg, "1 validation error detected: ") {
		t.Fatalf("message %q", msg)
	}
}

func TestSecureString(t *testing.T) {
	e := newEnv(t)
	const value = "hunter2-very-secret"
	e.put(t, "/app/db/password", value, types.ParameterTypeSecureString)
	g, err := e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})
	if err != nil {
		t.Fatal(err)
	}
	enc := aws.ToString(g.Parameter.Value)
	if enc == value || strings.Contains(enc, value) {
		t.Fatal("the value is returned without decryption")
	}
	if _, err := base64.StdEncoding.DecodeString(enc); err != nil {
		t.Fatalf("not base64: %q", enc)
	}
	g, err = e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(g.Parameter.Value) != value {
		t.Fatalf("decrypted: %+v %v", g, err)
	}
	d, err := e.c.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(d.Parameters) != 1 || aws.ToString(d.Parameters[0].KeyId) != "alias/aws/ssm" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	e.put(t, "/app/db/password", "second", "", overwrite, func(in *ssm.PutParameterInput) { in.KeyId = aws.String("alias/mine") })
	h, err := e.c.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil || len(h.Parameters) != 2 || aws.ToString(h.Parameters[0].Value) != value || aws.ToString(h.Parameters[1].Value) != "second" ||
		aws.ToString(h.Parameters[1].KeyId) != "alias/mine" {
		t.Fatalf("history: %+v %v", h, err)
	}
	for _, entry := range e.p.entries {
		if bytes.Contains(entry, []byte(value)) || bytes.Contains(entry, []byte("second")) {
			t.Fatal("a log entry holds a SecureString value")
		}
	}
	// KeyId on a String, and a malformed key.
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/s"), Value: aws.String("v"), Type: types.ParameterTypeString, KeyId: aws.String("alias/x")})
	wantCode(t, err, "ValidationException")
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/s"), Value: aws.String("v"), Type: types.ParameterTypeSecureString, KeyId: aws.String("bad key!")})
	var bad *types.InvalidKeyId
	if !errors.As(err, &bad) {
		t.Fatalf("want InvalidKeyId, got %v", err)
	}
	// ResolveParameter.
	for _, ref := range []string{"/app/db/password", "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/password", "/app/db/password:2"} {
		if v, err := e.api.ResolveParameter(e.ctx, ref); err != nil || v != "second" {
			t.Fatalf("resolve %s: %q %v", ref, v, err)
		}
	}
	if v, err := e.api.ResolveParameter(e.ctx, "/app/db/password:1"); err != nil || v != value {
		t.Fatalf("resolve :1: %q %v", v, err)
	}
}

func TestResolveParameter(t *testing.T) {
	e := newEnv(t)
	e.put(t, "password", "p1", types.ParameterTypeSecureString)
	e.put(t, "/top", "t1", types.ParameterTypeString)
	for ref, want := range map[string]string{
		"password": "p1", "arn:aws:ssm:us-east-1:123456789012:parameter/password": "p1",
		"/top": "t1", "arn:aws:ssm:us-east-1:123456789012:parameter/top": "t1",
	} {
		if v, err := e.api.ResolveParameter(e.ctx, ref); err != nil || v != want {
			t.Errorf("resolve %s: %q %v", ref, v, err)
		}
	}
	for _, ref := range []string{"/nope", "nope", "password:5", "password:lbl",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/password", "arn:aws:ssm:us-east-1:999999999999:parameter/password"} {
		_, err := e.api.ResolveParameter(e.ctx, ref)
		var nf *ssmapi.NotFoundError
		if !errors.Is(err, ssmapi.ErrNotFound) || !errors.As(err, &nf) {
			t.Errorf("resolve %s: %v, want not found", ref, err)
		}
	}
	for _, ref := range []string{"", "a/b", "/aws/x", "bad name"} {
		if _, err := e.api.ResolveParameter(e.ctx, ref); err == nil || errors.Is(err, ssmapi.ErrNotFound) {
			t.Errorf("resolve %q: %v, want invalid", ref, err)
		}
	}
}

func TestLabels(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/l", "v1", types.ParameterTypeString)
	e.put(t, "/l", "v2", "", overwrite)
	e.put(t, "/l", "v3", "", overwrite)
	out, err := e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(1),
		Labels: []string{"prod", "aws-x", "1st", "Ssm", "ok.label-1", "has/slash"}})
	if err != nil || out.ParameterVersion != 1 || !slices.Equal(out.InvalidLabels, []string{"aws-x", "1st", "Ssm", "has/slash"}) {
		t.Fatalf("label: %+v %v", out, err)
	}
	g, err := e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/l:prod")})
	if err != nil || aws.ToString(g.Parameter.Value) != "v1" || aws.ToString(g.Parameter.Selector) != ":prod" {
		t.Fatalf("get :prod: %+v %v", g, err)
	}
	// Without a version: the latest; the label moves.
	out, err = e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), Labels: []string{"prod"}})
	if err != nil || out.ParameterVersion != 3 {
		t.Fatalf("label latest: %+v %v", out, err)
	}
	if v, _ := e.api.ResolveParameter(e.ctx, "/l:prod"); v != "v3" {
		t.Fatalf("the label did not move: %q", v)
	}
	h, err := e.c.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/l")})
	if err != nil || !slices.Equal(h.Parameters[0].Labels, []string{"ok.label-1"}) || len(h.Parameters[1].Labels) != 0 || !slices.Equal(h.Parameters[2].Labels, []string{"prod"}) {
		t.Fatalf("history labels: %+v %v", h, err)
	}
	// Ten labels per version at most.
	var ten []string
	for i := range 10 {
		ten = append(ten, fmt.Sprintf("l%d", i))
	}
	if _, err := e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(2), Labels: ten}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(2), Labels: []string{"eleventh"}})
	var lim *types.ParameterVersionLabelLimitExceeded
	if !errors.As(err, &lim) {
		t.Fatalf("want ParameterVersionLabelLimitExceeded, got %v", err)
	}
	_, err = e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(9), Labels: []string{"x"}})
	var vnf *types.ParameterVersionNotFound
	if !errors.As(err, &vnf) {
		t.Fatalf("want ParameterVersionNotFound, got %v", err)
	}
	_, err = e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/none"), Labels: []string{"x"}})
	var nf *types.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("want ParameterNotFound, got %v", err)
	}
	un, err := e.c.UnlabelParameterVersion(e.ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(3), Labels: []string{"prod", "nothere"}})
	if err != nil || !slices.Equal(un.RemovedLabels, []string{"prod"}) || !slices.Equal(un.InvalidLabels, []string{"nothere"}) {
		t.Fatalf("unlabel: %+v %v", un, err)
	}
	if _, err := e.c.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/l:prod")}); !errors.As(err, &vnf) {
		t.Fatalf("get a removed label: %v", err)
	}
	// Label filter of GetParametersByPath.
	bp, err := e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/"),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"l3"}}}})
	if err != nil || len(bp.Parameters) != 1 {
		t.Fatalf("by label: %+v %v", bp, err)
	}
}

func TestHistoryLimitAndPaging(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/h", "v1", types.ParameterTypeString)
	if _, err := e.c.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/h"), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 100; i++ {
		e.put(t, "/h", fmt.Sprintf("v%d", i), "", overwrite)
	}
	_, err := e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/h"), Value: aws.String("v101"), Overwrite: aws.Bool(true)})
	var maxv *types.ParameterMaxVersionLimitExceeded
	if !errors.As(err, &maxv) {
		t.Fatalf("want ParameterMaxVersionLimitExceeded, got %v", err)
	}
	if _, err := e.c.UnlabelParameterVersion(e.ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/h"), ParameterVersion: aws.Int64(1), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	if out := e.put(t, "/h", "v101", "", overwrite); out.Version != 101 {
		t.Fatalf("version %d", out.Version)
	}
	var versions []int64
	var token *string
	pages := 0
	for {
		h, err := e.c.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), MaxResults: aws.Int32(30), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range h.Parameters {
			versions = append(versions, p.Version)
		}
		if token = h.NextToken; token == nil {
			break
		}
	}
	if pages != 4 || len(versions) != 100 || versions[0] != 2 || versions[99] != 101 {
		t.Fatalf("%d pages, %d versions %v..%v", pages, len(versions), versions[0], versions[len(versions)-1])
	}
	_, err = e.c.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidNextToken")
	_, err = e.c.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), MaxResults: aws.Int32(51)})
	wantCode(t, err, "ValidationException")
}

func TestPathsRecursionPaging(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple", "/other/x", "flat"} {
		e.put(t, n, "v"+n, types.ParameterTypeString)
	}
	e.put(t, "/app/s", "secret", types.ParameterTypeSecureString)
	names := func(in *ssm.GetParametersByPathInput) []string {
		t.Helper()
		var out []string
		for {
			r, err := e.c.GetParametersByPath(e.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Parameters {
				out = append(out, aws.ToString(p.Name))
			}
			if r.NextToken == nil {
				return out
			}
			in.NextToken = r.NextToken
		}
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/app")}); !slices.Equal(got, []string{"/app/a", "/app/b", "/app/s"}) {
		t.Fatalf("one level: %v", got)
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/app/"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)}); !slices.Equal(got,
		[]string{"/app/a", "/app/b", "/app/s", "/app/sub/c", "/app/sub/deep/d"}) {
		t.Fatalf("recursive: %v", got)
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(false)}); !slices.Equal(got, []string{"/apple"}) {
		t.Fatalf("root: %v", got)
	}
	if got := names(&ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}}); !slices.Equal(got, []string{"/app/s"}) {
		t.Fatalf("type filter: %v", got)
	}
	r, err := e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), WithDecryption: aws.Bool(true),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("KeyId"), Values: []string{"alias/aws/ssm"}}}})
	if err != nil || len(r.Parameters) != 1 || aws.ToString(r.Parameters[0].Value) != "secret" {
		t.Fatalf("decrypt by path: %+v %v", r, err)
	}
	_, err = e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("app")})
	wantCode(t, err, "ValidationException")
	_, err = e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), MaxResults: aws.Int32(11)})
	wantCode(t, err, "ValidationException")
	_, err = e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidFilterKey")
	_, err = e.c.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), NextToken: aws.String("!!")})
	wantCode(t, err, "InvalidNextToken")
}

func TestDescribeFilters(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/a/one", "1", types.ParameterTypeString, func(in *ssm.PutParameterInput) {
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	})
	e.put(t, "/a/b/two", "2", types.ParameterTypeStringList)
	e.put(t, "/a/three", "3", types.ParameterTypeSecureString, func(in *ssm.PutParameterInput) { in.Tier = types.ParameterTierAdvanced })
	e.put(t, "four", "4", types.ParameterTypeString, func(in *ssm.PutParameterInput) { in.Tier = types.ParameterTierIntelligentTiering })
	describe := func(in *ssm.DescribeParametersInput) []string {
		t.Helper()
		var out []string
		for {
			r, err := e.c.DescribeParameters(e.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Parameters {
				out = append(out, aws.ToString(p.Name))
			}
			if r.NextToken == nil {
				return out
			}
			in.NextToken = r.NextToken
		}
	}
	f := func(key, opt string, values ...string) types.ParameterStringFilter {
		out := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if opt != "" {
			out.Option = aws.String(opt)
		}
		return out
	}
	cases := []struct {
		in   *ssm.DescribeParametersInput
		want []string
	}{
		{&ssm.DescribeParametersInput{MaxResults: aws.Int32(1)}, []string{"/a/b/two", "/a/one", "/a/three", "four"}},
		{&ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"String"}}}}, []string{"/a/one", "four"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "", "/a")}}, []string{"/a/one", "/a/three"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "Recursive", "/a")}}, []string{"/a/b/two", "/a/one", "/a/three"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Tier", "", "Advanced")}}, []string{"/a/three"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "BeginsWith", "/a/t")}}, []string{"/a/three"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "Contains", "o")}}, []string{"/a/b/two", "/a/one", "four"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("tag:env", "", "prod")}}, []string{"/a/one"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("tag:env", "")}}, []string{"/a/one"}},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("KeyId", "", "alias/aws/ssm")}}, []string{"/a/three"}},
	}
	for i, c := range cases {
		if got := describe(c.in); !slices.Equal(got, c.want) {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
	for _, bad := range []struct {
		in   *ssm.DescribeParametersInput
		code string
	}{
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Colour", "", "x")}}, "InvalidFilterKey"},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Type", "", "Number")}}, "InvalidFilterValue"},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Type", "BeginsWith", "String")}}, "InvalidFilterOption"},
		{&ssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException"},
		{&ssm.DescribeParametersInput{NextToken: aws.String("nope")}, "InvalidNextToken"},
		{&ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"x"}}},
			ParameterFilters: []types.ParameterStringFilter{f("Type", "", "String")}}, "ValidationException"},
	} {
		_, err := e.c.DescribeParameters(e.ctx, bad.in)
		wantCode(t, err, bad.code)
	}
}

func TestDeleteAndTags(t *testing.T) {
	e := newEnv(t)
	e.put(t, "/d/1", "1", types.ParameterTypeString, func(in *ssm.PutParameterInput) {
		in.Tags = []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}
	})
	e.put(t, "/d/2", "2", types.ParameterTypeString)
	lt, err := e.c.ListTagsForResource(e.ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/d/1")})
	if err != nil || len(lt.TagList) != 1 {
		t.Fatalf("tags: %+v %v", lt, err)
	}
	if _, err := e.c.AddTagsToResource(e.ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/d/1"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.RemoveTagsFromResource(e.ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/d/1"), TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	lt, _ = e.c.ListTagsForResource(e.ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/d/1")})
	if len(lt.TagList) != 1 || aws.ToString(lt.TagList[0].Value) != "2" {
		t.Fatalf("tags after: %+v", lt.TagList)
	}
	_, err = e.c.ListTagsForResource(e.ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String("/d/1")})
	wantCode(t, err, "InvalidResourceType")
	_, err = e.c.AddTagsToResource(e.ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/none"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantCode(t, err, "InvalidResourceId")
	// Tags with Overwrite are refused.
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/d/1"), Value: aws.String("x"), Overwrite: aws.Bool(true),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if msg := wantCode(t, err, "ValidationException"); !strings.Contains(msg, "tags and overwrite can't be used together") {
		t.Fatalf("message %q", msg)
	}
	dp, err := e.c.DeleteParameters(e.ctx, &ssm.DeleteParametersInput{Names: []string{"/d/1", "/missing", "bad name"}})
	if err != nil || !slices.Equal(dp.DeletedParameters, []string{"/d/1"}) || !slices.Equal(dp.InvalidParameters, []string{"/missing", "bad name"}) {
		t.Fatalf("delete: %+v %v", dp, err)
	}
	if _, err := e.c.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/2")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/2")})
	var nf *types.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("want ParameterNotFound, got %v", err)
	}
	_, err = e.c.DeleteParameters(e.ctx, &ssm.DeleteParametersInput{Names: []string{}})
	wantCode(t, err, "ValidationException")
}

func TestPutValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 4097)
	deep := strings.Repeat("/l", 16)
	put := func(in *ssm.PutParameterInput) error {
		_, err := e.c.PutParameter(e.ctx, in)
		return err
	}
	s := aws.String
	cases := []struct {
		in   *ssm.PutParameterInput
		code string
	}{
		{&ssm.PutParameterInput{Name: s("/aws/x"), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("SSM-x"), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("a b"), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("a/b"), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/a//b"), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s(deep), Value: s("v"), Type: types.ParameterTypeString}, "HierarchyLevelLimitExceededException"},
		{&ssm.PutParameterInput{Name: s("/" + strings.Repeat("n", 2048)), Value: s("v"), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v")}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v"), Type: "Number"}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s(""), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s(long), Type: types.ParameterTypeString}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s(strings.Repeat("x", 8193)), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("abc"), Type: types.ParameterTypeString, AllowedPattern: s(`^\d+$`)}, "ParameterPatternMismatchException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("abc"), Type: types.ParameterTypeString, AllowedPattern: s(`(`)}, "InvalidAllowedPatternException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("ami-1"), Type: types.ParameterTypeString, DataType: s("aws:ec2:image")}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v"), Type: types.ParameterTypeString, DataType: s("Text")}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v"), Type: types.ParameterTypeString, Policies: s(`[{"Type":"Expiration"}]`)}, "InvalidPolicyTypeException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v"), Type: types.ParameterTypeString, Tier: "Gold"}, "ValidationException"},
		{&ssm.PutParameterInput{Name: s("/x"), Value: s("v"), Type: types.ParameterTypeString, Tags: []types.Tag{{Key: s("aws:x"), Value: s("1")}}}, "ValidationException"},
	}
	for i, c := range cases {
		got, msg := code(t, put(c.in))
		if got != c.code {
			t.Errorf("case %d: %s (%s), want %s", i, got, msg, c.code)
		}
	}
	// A 15-level name, an allowed pattern that matches, an advanced value, Intelligent-Tiering.
	e.put(t, strings.Repeat("/l", 15), "v", types.ParameterTypeString)
	e.put(t, "/n", "123", types.ParameterTypeString, func(in *ssm.PutParameterInput) { in.AllowedPattern = aws.String(`^\d+$`) })
	_, err := e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: s("/n"), Value: s("x"), Overwrite: aws.Bool(true)})
	wantCode(t, err, "ParameterPatternMismatchException")
	if out := e.put(t, "/big", long, types.ParameterTypeString, func(in *ssm.PutParameterInput) { in.Tier = types.ParameterTierIntelligentTiering }); out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("tier %s", out.Tier)
	}
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: s("/big"), Value: s("x"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard})
	wantCode(t, err, "ValidationException")
	_, err = e.c.PutParameter(e.ctx, &ssm.PutParameterInput{Name: nil, Value: s("x")})
	if err == nil {
		t.Fatal("a missing name is accepted")
	}
}

func TestUnsupportedOperation(t *testing.T) {
	e := newEnv(t)
	_, err := e.c.ListDocuments(e.ctx, &ssm.ListDocumentsInput{})
	if err == nil {
		t.Fatal("ListDocuments answered")
	}
}
