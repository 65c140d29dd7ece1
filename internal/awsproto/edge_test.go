package awsproto_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/sigv4"
)

const (
	region = "us-east-1"
	keyID  = "AKIDEXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	root   = "arn:aws:iam::123456789012:root"
)

// sigAuth verifies SigV4 for the signing name the edge asks for.
type sigAuth struct{}

func (sigAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		e, _ := apierr.As(err)
		return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
	}
	return root, nil
}

// The test ELBv2 shapes, as the generated ones will be.
type describeTagsInput struct {
	ResourceArns []string `query:"ResourceArns"`
}

type tag struct {
	Key   *string `query:"Key"`
	Value *string `query:"Value"`
}

type tagDescription struct {
	ResourceArn *string `query:"ResourceArn"`
	Tags        []tag   `query:"Tags"`
}

type describeTagsOutput struct {
	TagDescriptions []tagDescription `query:"TagDescriptions"`
}

type describeTargetGroupsInput struct {
	Names           []string `query:"Names"`
	TargetGroupArns []string `query:"TargetGroupArns"`
	PageSize        *int32   `query:"PageSize"`
	Marker          *string  `query:"Marker"`
	LoadBalancerArn *string  `query:"LoadBalancerArn"`
}

type describeLoadBalancersInput struct {
	LoadBalancerArns []string `query:"LoadBalancerArns"`
	Names            []string `query:"Names"`
	Marker           *string  `query:"Marker"`
	PageSize         *int32   `query:"PageSize"`
}

type scheme string

type availabilityZone struct {
	ZoneName *string `query:"ZoneName"`
	SubnetId *string `query:"SubnetId"`
}

type loadBalancer struct {
	LoadBalancerArn   *string            `query:"LoadBalancerArn"`
	DNSName           *string            `query:"DNSName"`
	CreatedTime       *time.Time         `query:"CreatedTime"`
	Scheme            scheme             `query:"Scheme"`
	AvailabilityZones []availabilityZone `query:"AvailabilityZones"`
	SecurityGroups    []string           `query:"SecurityGroups"`
}

type describeLoadBalancersOutput struct {
	LoadBalancers []loadBalancer `query:"LoadBalancers"`
	NextMarker    *string        `query:"NextMarker"`
}

type target struct {
	Id   *string `query:"Id"`
	Port *int32  `query:"Port"`
}

type registerTargetsInput struct {
	TargetGroupArn *string  `query:"TargetGroupArn"`
	Targets        []target `query:"Targets"`
}

type empty struct{}

var created = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func elbService(registered *[]target) awsproto.Service {
	return awsproto.Service{
		Name: "ELBv2", SigningName: "elasticloadbalancing", Protocol: awsproto.Query,
		Version: "2015-12-01", XMLNamespace: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		Operations: map[string]awsproto.Operation{
			"DescribeTags": awsproto.Handle(func(_ context.Context, _ *awsproto.Request, in *describeTagsInput) (*describeTagsOutput, error) {
				out := &describeTagsOutput{TagDescriptions: []tagDescription{}}
				for _, a := range in.ResourceArns {
					out.TagDescriptions = append(out.TagDescriptions, tagDescription{ResourceArn: aws.String(a),
						Tags: []tag{{Key: aws.String("team"), Value: aws.String("a & <b>")}, {Key: aws.String("empty"), Value: aws.String("")}}})
				}
				return out, nil
			}),
			"DescribeTargetGroups": awsproto.Handle(func(_ context.Context, _ *awsproto.Request, in *describeTargetGroupsInput) (*empty, error) {
				return nil, awsproto.Errorf("TargetGroupNotFound", "One or more target groups not found: %s", strings.Join(in.Names, ", "))
			}),
			"DescribeLoadBalancers": awsproto.Handle(func(_ context.Context, _ *awsproto.Request, in *describeLoadBalancersInput) (*describeLoadBalancersOutput, error) {
				return &describeLoadBalancersOutput{LoadBalancers: []loadBalancer{{
					LoadBalancerArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1"),
					DNSName:         aws.String("web.local"), CreatedTime: &created, Scheme: "internal",
					AvailabilityZones: []availabilityZone{{ZoneName: aws.String("us-east-1a"), SubnetId: aws.String("subnet-1")}},
					SecurityGroups:    []string{},
				}}}, nil
			}),
			"RegisterTargets": awsproto.Handle(func(_ context.Context, _ *awsproto.Request, in *registerTargetsInput) (*empty, error) {
				*registered = in.Targets
				return &empty{}, nil
			}),
			"DeleteTargetGroup": func(context.Context, *awsproto.Request) (any, error) { panic("bug") },
		},
		Known: func(op string) bool { return op == "CreateListener" },
	}
}

type echoIn struct {
	Name  string `json:"Name"`
	Count *int   `json:"Count,omitempty"`
}

type echoOut struct {
	Greeting string `json:"Greeting"`
	Caller   string `json:"Caller"`
}

func jsonService() awsproto.Service {
	return awsproto.Service{
		Name: "Test", SigningName: "testjson", Protocol: awsproto.JSON11, TargetPrefix: "TestService_20250101",
		Operations: map[string]awsproto.Operation{
			"Echo": awsproto.Handle(func(_ context.Context, req *awsproto.Request, in *echoIn) (*echoOut, error) {
				if in.Name == "" {
					return nil, awsproto.NewError("InvalidParameterException", "Name is required.")
				}
				return &echoOut{Greeting: "hello " + in.Name, Caller: req.Principal}, nil
			}),
			"Boom": func(context.Context, *awsproto.Request) (any, error) { return nil, errors.New("disk on fire") },
		},
	}
}

func newEdge(t *testing.T, registered *[]target) *httptest.Server {
	t.Helper()
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{jsonService(), elbService(registered)},
		Auth: sigAuth{}, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	return srv
}

func elbClient(srv *httptest.Server) *elbv2.Client {
	return elbv2.New(elbv2.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:     aws.NopRetryer{}})
}

// The real ELBv2 client calls the test Query service: lists, nested
// structs, escaped text, timestamps and enums reach it and back; a typed
// error reaches it as its type.
func TestELBv2ClientOverQuery(t *testing.T) {
	var registered []target
	srv := newEdge(t, &registered)
	c := elbClient(srv)
	ctx := context.Background()

	tags, err := c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{"arn:a", "arn:b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[1].ResourceArn) != "arn:b" ||
		len(tags.TagDescriptions[0].Tags) != 2 || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "a & <b>" ||
		tags.TagDescriptions[0].Tags[1].Value == nil || *tags.TagDescriptions[0].Tags[1].Value != "" {
		t.Fatalf("DescribeTags: got %+v", tags.TagDescriptions)
	}

	_, err = c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"web"}})
	var nf *types.TargetGroupNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "not found: web") {
		t.Fatalf("DescribeTargetGroups: got %v, want TargetGroupNotFoundException", err)
	}

	lbs, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 1 || !aws.ToTime(lbs.LoadBalancers[0].CreatedTime).Equal(created) ||
		lbs.LoadBalancers[0].Scheme != types.LoadBalancerSchemeEnumInternal ||
		aws.ToString(lbs.LoadBalancers[0].AvailabilityZones[0].SubnetId) != "subnet-1" {
		t.Fatalf("DescribeLoadBalancers: got %+v", lbs.LoadBalancers)
	}

	if _, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String("arn:tg"),
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1"), Port: aws.Int32(80)}, {Id: aws.String("10.0.0.2")}}}); err != nil {
		t.Fatal(err)
	}
	if len(registered) != 2 || *registered[0].Port != 80 || *registered[1].Id != "10.0.0.2" || registered[1].Port != nil {
		t.Fatalf("RegisterTargets: the service got %+v", registered)
	}

	_, err = c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String("arn:lb"), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward}}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" || !strings.Contains(apiErr.ErrorMessage(), "does not support the CreateListener operation") {
		t.Fatalf("CreateListener: got %v, want InvalidAction", err)
	}

	_, err = c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String("arn:tg")})
	var re *awshttp.ResponseError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalFailure" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 ||
		!strings.HasSuffix(apiErr.ErrorMessage(), "Request ID: "+re.ServiceRequestID()) {
		t.Fatalf("DeleteTargetGroup (panics): got %v, want InternalFailure", err)
	}

	// Signed for another service: AWS's scope error, in XML.
	bad := elbv2.New(elbv2.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDOTHER", secret, ""), Retryer: aws.NopRetryer{}})
	_, err = bad.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{"arn:a"}})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("unknown key: got %v, want InvalidClientTokenId", err)
	}
}

// sign signs req for service as the test's key.
func sign(t *testing.T, req *http.Request, body []byte, service string) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method string, header map[string]string, body, service string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if service != "" {
		sign(t, req, []byte(body), service)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s %v: no x-amzn-RequestId", method, header)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func jsonHeaders(target string) map[string]string {
	return map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
}

// A JSON 1.1 service called with signed requests: results, its errors
// with X-Amzn-ErrorType and "Message", strict decoding, faults.
func TestJSONService(t *testing.T) {
	srv := newEdge(t, new([]target))
	a := do(t, srv, "POST", jsonHeaders("TestService_20250101.Echo"), `{"Name":"berth"}`, "testjson")
	var out echoOut
	if err := json.Unmarshal([]byte(a.body), &out); err != nil || a.status != 200 || out.Greeting != "hello berth" || out.Caller != root ||
		a.header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("Echo: got %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	for _, tc := range []struct {
		target, body, service string
		status                int
		code, msg             string
	}{
		{"TestService_20250101.Echo", `{}`, "testjson", 400, "InvalidParameterException", "Name is required."},
		{"TestService_20250101.Echo", `{"Name":"a","Nmae":"b"}`, "testjson", 400, "SerializationException", "unknown field"},
		{"TestService_20250101.Echo", `{"Name":1}`, "testjson", 400, "SerializationException", "Invalid value for 'Name'"},
		{"TestService_20250101.Echo", `{"Name":"a"} {}`, "testjson", 400, "SerializationException", "Unexpected data"},
		{"TestService_20250101.Echo", `[]`, "testjson", 400, "SerializationException", "must be a JSON object"},
		{"TestService_20250101.Nope", `{}`, "testjson", 400, "UnknownOperationException", "Unknown operation Nope."},
		{"TestService_20250101.Boom", `{}`, "testjson", 500, "InternalFailure", "Request ID: "},
		{"TestService_20250101.Echo", `{"Name":"a"}`, "ecs", 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'testjson'."},
		{"TestService_20250101.Echo", `{"Name":"a"}`, "", 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"secretsmanager.GetSecretValue", `{}`, "secretsmanager", 400, "UnknownOperationException", "berth does not serve the secretsmanager API yet (secretsmanager.GetSecretValue); it serves Test (testjson), ELBv2 (elasticloadbalancing)."},
		{"Other.Op", `{}`, "testjson", 400, "UnknownOperationException", "The X-Amz-Target header must be TestService_20250101.<Operation>."},
	} {
		a := do(t, srv, "POST", jsonHeaders(tc.target), tc.body, tc.service)
		var e map[string]string
		_ = json.Unmarshal([]byte(a.body), &e)
		member := "Message"
		if strings.HasPrefix(tc.target, "secretsmanager") {
			member = "message"
		}
		if a.status != tc.status || e["__type"] != tc.code || a.header.Get("X-Amzn-ErrorType") != tc.code || !strings.Contains(e[member], tc.msg) {
			t.Errorf("%s %s signed for %q: got %d %s, want %d %s %q", tc.target, tc.body, tc.service, a.status, a.body, tc.status, tc.code, tc.msg)
		}
	}
	a = do(t, srv, "GET", jsonHeaders("TestService_20250101.Echo"), ``, "testjson")
	if a.status != 400 || !strings.Contains(a.body, "Operations are called with POST, not GET.") {
		t.Errorf("GET: got %d %s", a.status, a.body)
	}
	big := `{"Name":"` + strings.Repeat("a", awsproto.DefaultMaxBody) + `"}`
	if a := do(t, srv, "POST", jsonHeaders("TestService_20250101.Echo"), big, ""); a.status != 413 || !strings.Contains(a.body, "RequestEntityTooLargeException") {
		t.Errorf("too large: got %d %.200s", a.status, a.body)
	}
}

type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

// Query requests that fail before their operation get XML errors with
// Query's codes; Query routes by Version and signing name, GET included.
func TestQueryEdgeErrors(t *testing.T) {
	srv := newEdge(t, new([]target))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	for _, tc := range []struct {
		body, service string
		status        int
		typ, code     string
		msg           string
	}{
		{"Action=DescribeTags&Version=2015-12-01&ResourceArns.member.1=a", "sts", 403, "Sender", "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'elasticloadbalancing'."},
		{"Action=DescribeTags&Version=2015-12-01&ResourceArns.member.1=a", "", 403, "Sender", "MissingAuthenticationToken", "Missing Authentication Token"},
		{"Action=DescribeTags&Version=2015-12-01&ResourceArns.member.2=a", "elasticloadbalancing", 400, "Sender", "ValidationError", "ResourceArns.member: item 1 is missing"},
		{"Action=DescribeTags&Version=2015-12-01&ResourceArn.member.1=a", "elasticloadbalancing", 400, "Sender", "ValidationError", "ResourceArn is not recognized"},
		{"Action=DescribeTags&Version=2015-12-01&ResourceArns.member.1001=a", "elasticloadbalancing", 400, "Sender", "ValidationError", "at most 1000"},
		{"Action=Frobnicate&Version=2015-12-01", "elasticloadbalancing", 400, "Sender", "InvalidAction", "The action Frobnicate is not valid for this web service."},
		{"Version=2015-12-01", "elasticloadbalancing", 400, "Sender", "MissingAction", "Action"},
		{"Action=DescribeTargetGroups&Version=2015-12-01&PageSize=ten", "elasticloadbalancing", 400, "Sender", "ValidationError", "PageSize"},
		{"Action=DescribeLoadBalancers&Version=2012-06-01", "elasticloadbalancing", 400, "Sender", "InvalidAction", "berth does not serve the elasticloadbalancing version 2012-06-01 API yet (DescribeLoadBalancers)"},
		{"Action=GetCallerIdentity&Version=2011-06-15", "sts", 400, "Sender", "InvalidAction", "berth does not serve the sts API yet (GetCallerIdentity)"},
	} {
		a := do(t, srv, "POST", form, tc.body, tc.service)
		var e queryErrorResponse
		if err := xml.Unmarshal([]byte(a.body), &e); err != nil || a.status != tc.status || e.Type != tc.typ || e.Code != tc.code ||
			!strings.Contains(e.Message, tc.msg) || e.ID != a.header.Get("x-amzn-RequestId") || a.header.Get("Content-Type") != "text/xml" {
			t.Errorf("%s signed for %q: got %d %s, want %d %s %q", tc.body, tc.service, a.status, a.body, tc.status, tc.code, tc.msg)
		}
	}

	big := "Action=DescribeTags&Version=2015-12-01&ResourceArns.member.1=" + strings.Repeat("a", awsproto.DefaultMaxBody)
	if a := do(t, srv, "POST", form, big, "elasticloadbalancing"); a.status != 413 || !strings.Contains(a.body, "<Code>RequestEntityTooLarge</Code>") {
		t.Errorf("too large: got %d %.300s", a.status, a.body)
	}

	// GET with the parameters in the URL.
	req, _ := http.NewRequest("GET", srv.URL+"/?"+url.Values{"Action": {"DescribeTags"}, "Version": {"2015-12-01"}, "ResourceArns.member.1": {"x"}}.Encode(), nil)
	sign(t, req, nil, "elasticloadbalancing")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `<DescribeTagsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTagsResult><TagDescriptions><member><ResourceArn>x</ResourceArn>`
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte(want)) || !bytes.Contains(b, []byte("<RequestId>"+resp.Header.Get("x-amzn-RequestId")+"</RequestId>")) {
		t.Errorf("GET: got %d %s", resp.StatusCode, b)
	}
}
