package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/shape"
)

const (
	wireTarget = "AmazonEC2ContainerServiceV20141113."
	// wireMismatch is AWS's text for a signature that does not verify.
	wireMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// wireReq is one raw HTTP request, with full control over what is signed.
type wireReq struct {
	method string // default POST
	target string // the whole X-Amz-Target value; "" sends none
	body   []byte
	// sign signs with the Go SDK's signer (it signs every header present).
	sign   bool
	keyID  string    // default testKeyID
	secret string    // default testSecret
	at     time.Time // signing time; default now
	// before runs before signing, after runs after it.
	before, after func(*http.Request)
}

// wire sends r to e and decodes the answer.
func (e *env) wire(r wireReq) rawResponse {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.keyID == "" {
		r.keyID, r.secret = testKeyID, testSecret
	}
	if r.at.IsZero() {
		r.at = time.Now()
	}
	req, err := http.NewRequest(r.method, e.endpoint+"/", bytes.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if r.target != "" {
		req.Header.Set("X-Amz-Target", r.target)
	}
	if r.before != nil {
		r.before(req)
	}
	if r.sign {
		sum := sha256.Sum256(r.body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: r.keyID, SecretAccessKey: r.secret},
			req, hex.EncodeToString(sum[:]), "ecs", testRegion, r.at)
		if err != nil {
			e.t.Fatal(err)
		}
	}
	if r.after != nil {
		r.after(req)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) rawResponse {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.Header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read answer: %v", err)
	}
	out := rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b, RequestID: resp.Header.Get("x-amzn-RequestId")}
	var eb struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &eb) == nil {
		out.Type, out.Message = eb.Type, eb.Message
	}
	return out
}

// call signs body for operation op like the Go SDK does.
func (e *env) call(op string, body string) rawResponse {
	e.t.Helper()
	return e.wire(wireReq{target: wireTarget + op, body: []byte(body), sign: true})
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// wireChecker checks what every answer must carry and that request IDs are
// unique across the test.
type wireChecker struct {
	t   *testing.T
	ids map[string]string // request ID -> case that got it
}

func newWireChecker(t *testing.T) *wireChecker {
	return &wireChecker{t: t, ids: map[string]string{}}
}

// answer checks the headers and body form of any answer.
func (c *wireChecker) answer(name string, r rawResponse) {
	c.t.Helper()
	if got, want := r.Header.Get("Content-Type"), "application/x-amz-json-1.1"; got != want {
		c.t.Errorf("%s: got Content-Type %q, want %q", name, got, want)
	}
	if !uuidPattern.MatchString(r.RequestID) {
		c.t.Errorf("%s: got x-amzn-RequestId %q, want a UUID", name, r.RequestID)
	} else if prev, dup := c.ids[r.RequestID]; dup {
		c.t.Errorf("%s: got x-amzn-RequestId %s, already given to %s; want a unique ID", name, r.RequestID, prev)
	}
	c.ids[r.RequestID] = name
	if got, want := r.Header.Get("Content-Length"), strconv.Itoa(len(r.Body)); got != want {
		c.t.Errorf("%s: got Content-Length %s, want %s", name, got, want)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &obj); err != nil {
		c.t.Errorf("%s: got body %q (%v), want a JSON object", name, r.Body, err)
	}
}

// ok checks a success answer.
func (c *wireChecker) ok(name string, r rawResponse) {
	c.t.Helper()
	c.answer(name, r)
	if r.Status != http.StatusOK || r.Type != "" {
		c.t.Errorf("%s: got %d %s %q, want 200", name, r.Status, r.Type, r.Message)
	}
}

// fails checks an error answer: status 400 for every client error, the
// code in __type and X-Amzn-ErrorType, and the message (exact, or when
// contains is true, a substring).
func (c *wireChecker) fails(name string, r rawResponse, code, msg string, contains bool) {
	c.t.Helper()
	c.answer(name, r)
	if r.Status != http.StatusBadRequest {
		c.t.Errorf("%s: got status %d, want 400", name, r.Status)
	}
	if r.Type != code {
		c.t.Errorf("%s: got __type %q (%q), want %q", name, r.Type, r.Message, code)
	}
	if got := r.Header.Get("X-Amzn-ErrorType"); got != code {
		c.t.Errorf("%s: got X-Amzn-ErrorType %q, want %q", name, got, code)
	}
	if contains && !strings.Contains(r.Message, msg) || !contains && r.Message != msg {
		c.t.Errorf("%s: got message %q, want %s %q", name, r.Message, map[bool]string{true: "it to contain", false: "exactly"}[contains], msg)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(r.Body, &keys)
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, []string{"__type", "message"}) {
		c.t.Errorf("%s: got error members %v, want [__type message]", name, got)
	}
}

// unchanged runs f and checks that the state has as many records as before.
func unchanged(t *testing.T, e *env, name string, f func()) {
	t.Helper()
	before := e.stateCounts()
	f()
	if after := e.stateCounts(); !maps.Equal(before, after) {
		t.Errorf("%s: got state %v after the request, want it unchanged from %v", name, after, before)
	}
}

const taskDefBody = `{"family":"wire","containerDefinitions":[{"name":"web","image":"nginx","memory":128%s}]%s}`

func TestWire_BadBodies(t *testing.T) {
	e := start(t)
	c := newWireChecker(t)
	// Something to lose: a cluster and a task definition exist already.
	c.ok("setup cluster", e.call("CreateCluster", `{"clusterName":"keep"}`))
	c.ok("setup task definition", e.call("RegisterTaskDefinition", fmt.Sprintf(taskDefBody, "", "")))

	const ser, inv = "SerializationException", "InvalidParameterException"
	for _, tc := range []struct {
		name, op, body string
		code, msg      string // msg: a substring of the message
	}{
		// Not JSON at all.
		{"trailing comma", "CreateCluster", `{"clusterName":"m1",}`, ser, "not valid JSON"},
		{"single quotes", "CreateCluster", `{'clusterName':'m2'}`, ser, "not valid JSON"},
		{"comment", "CreateCluster", `{"clusterName":"m3" /* x */}`, ser, "not valid JSON"},
		{"bare word", "CreateCluster", `clusterName`, ser, "not valid JSON"},
		{"form feed", "CreateCluster", "{\"clusterName\" :\f\"m4\"}", ser, "not valid JSON"},
		{"truncated object", "CreateCluster", `{"clusterName":"m5"`, ser, "ends early"},
		{"truncated string", "CreateCluster", `{"clusterName":"m`, ser, "ends early"},
		{"truncated nested", "RegisterTaskDefinition", `{"family":"m6","containerDefinitions":[{"name":"a"`, ser, "ends early"},
		// JSON, but not an object.
		{"array", "CreateCluster", `[{"clusterName":"m7"}]`, ser, "must be a JSON object"},
		{"string", "CreateCluster", `"m8"`, ser, "must be a JSON object"},
		{"number", "CreateCluster", `42`, ser, "must be a JSON object"},
		{"boolean", "CreateCluster", `true`, ser, "must be a JSON object"},
		{"null body", "CreateCluster", `null`, ser, "must be a JSON object"},
		// Something after the object.
		{"second object", "CreateCluster", `{"clusterName":"m9"} {"clusterName":"m10"}`, ser, "after the JSON request object"},
		{"trailing word", "CreateCluster", `{"clusterName":"m11"}abc`, ser, "after the JSON request object"},
		{"extra brace", "CreateCluster", `{"clusterName":"m12"}}`, ser, "after the JSON request object"},
		{"leading garbage", "CreateCluster", `abc{"clusterName":"m13"}`, ser, "not valid JSON"},
		// Members of the wrong type.
		{"number for string", "CreateCluster", `{"clusterName":14}`, ser, "clusterName"},
		{"string for integer", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"cpu":"256"`, ""), ser, "containerDefinitions[0].cpu"},
		{"string for top-level integer", "ListClusters", `{"maxResults":"5"}`, ser, "maxResults"},
		{"object for list", "CreateCluster", `{"clusterName":"m15","tags":{"key":"a","value":"b"}}`, ser, "tags"},
		{"list for object", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"healthCheck":[]`, ""), ser, "containerDefinitions[0].healthCheck"},
		{"string for list", "DescribeClusters", `{"clusters":"keep"}`, ser, "clusters"},
		{"number in string list", "DescribeClusters", `{"clusters":["keep",1]}`, ser, "clusters[1]"},
		{"boolean for string", "RegisterTaskDefinition", `{"family":true,"containerDefinitions":[{"name":"a","image":"b","memory":128}]}`, ser, "family"},
		{"float for int32", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"cpu":1.5`, ""), ser, "containerDefinitions[0].cpu"},
		{"float with zero fraction for int32", "ListClusters", `{"maxResults":5.0}`, ser, "maxResults"},
		{"int32 overflow", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"cpu":2147483648`, ""), ser, "containerDefinitions[0].cpu"},
		{"int32 underflow", "ListClusters", `{"maxResults":-2147483649}`, ser, "maxResults"},
		{"huge number", "ListClusters", `{"maxResults":123000000000000000000000}`, ser, "maxResults"},
		{"string for boolean", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"essential":"true"`, ""), ser, "containerDefinitions[0].essential"},
		{"number for map", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"dockerLabels":7`, ""), ser, "containerDefinitions[0].dockerLabels"},
		{"number as map value", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"dockerLabels":{"a":1}`, ""), ser, "dockerLabels"},
		// null where a dense list or map needs a value.
		{"null in list", "DescribeClusters", `{"clusters":["keep",null]}`, ser, "clusters[1]"},
		{"null in list of structures", "RegisterTaskDefinition", `{"family":"m16","containerDefinitions":[null]}`, ser, "containerDefinitions[0]"},
		{"null map value", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"dockerLabels":{"a":null}`, ""), ser, "dockerLabels"},
		// Members the operation does not have.
		{"unknown member", "CreateCluster", `{"clusterName":"m17","bogus":1}`, inv, `Unknown parameter in input: "bogus"`},
		{"unknown null member", "CreateCluster", `{"clusterName":"m18","bogus":null}`, inv, `Unknown parameter in input: "bogus"`},
		{"member in the wrong case", "CreateCluster", `{"ClusterName":"m19"}`, inv, `Unknown parameter in input: "ClusterName"`},
		{"unknown nested member", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"imageName":"x"`, ""), inv, `Unknown parameter in containerDefinitions[0]: "imageName"`},
		{"nested member in the wrong case", "CreateCluster", `{"clusterName":"m20","tags":[{"Key":"a","value":"b"}]}`, inv, `Unknown parameter in tags[0]: "Key"`},
		{"unknown deep member", "RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"logConfiguration":{"logDriver":"awslogs","opts":{}}`, ""), inv, `Unknown parameter in containerDefinitions[0].logConfiguration: "opts"`},
	} {
		unchanged(t, e, tc.name, func() {
			c.fails(tc.name, e.call(tc.op, tc.body), tc.code, tc.msg, true)
		})
	}

	// Messages repeat a bounded part of what the client sent.
	long := strings.Repeat("k", 5000)
	for _, tc := range []struct{ name, op, body, code, msg string }{
		{"long unknown member", "CreateCluster", `{"` + long + `":1}`, inv, `Unknown parameter in input: "kkkk`},
		{"long tag key", "CreateCluster", `{"clusterName":"m21","tags":[{"key":"` + long + `","value":"v"}]}`, inv, "is longer than 128 characters"},
		{"long enum value", "ListTaskDefinitions", `{"status":"` + long + `"}`, inv, "failed to satisfy constraint"},
		{"long number", "ListClusters", `{"maxResults":` + strings.Repeat("9", 5000) + `}`, ser, "maxResults"},
	} {
		unchanged(t, e, tc.name, func() {
			r := e.call(tc.op, tc.body)
			c.fails(tc.name, r, tc.code, tc.msg, true)
			if len(r.Message) > 1024 {
				t.Errorf("%s: got a message of %d bytes, want at most 1024", tc.name, len(r.Message))
			}
		})
	}

	// A body over the limit is a client error, answered before anything else.
	big := []byte(`{"clusterName":"big"}`)
	big = append(big, bytes.Repeat([]byte(" "), ecsapi.DefaultMaxBody+1-len(big))...)
	unchanged(t, e, "body over the limit", func() {
		c.fails("body over the limit", e.call("CreateCluster", string(big)), "ClientException",
			"The request body is larger than the limit of 1048576 bytes.", false)
	})
	// One byte less is accepted.
	r := e.call("CreateCluster", string(big[:ecsapi.DefaultMaxBody]))
	c.ok("body at the limit", r)
	if !strings.Contains(string(r.Body), `"clusterName":"big"`) {
		t.Errorf("body at the limit: got %s, want cluster big", r.Body)
	}
}

func TestWire_EmptyAndNull(t *testing.T) {
	e := start(t)
	c := newWireChecker(t)

	// An empty body is {}: CreateCluster makes the default cluster.
	for _, body := range []string{"", " \n\t"} {
		r := e.call("CreateCluster", body)
		c.ok(fmt.Sprintf("body %q", body), r)
		if !strings.Contains(string(r.Body), `"clusterName":"default"`) {
			t.Errorf("body %q: got %s, want the default cluster", body, r.Body)
		}
	}
	r := e.call("ListClusters", "")
	c.ok("empty ListClusters", r)
	if got, want := string(r.Body), `{"clusterArns":["arn:aws:ecs:us-east-1:123456789012:cluster/default"]}`; got != want {
		t.Errorf("empty ListClusters: got %s, want %s", got, want)
	}

	// null members are absent members.
	r = e.call("CreateCluster", `{"clusterName":"nulls","tags":null,"settings":null,"configuration":null,"capacityProviders":null}`)
	c.ok("null members", r)
	var out struct{ Cluster *shape.Cluster }
	if err := json.Unmarshal(r.Body, &out); err != nil || out.Cluster == nil {
		t.Fatalf("null members: got %s (%v), want a cluster", r.Body, err)
	}
	if got := aws.ToString(out.Cluster.ClusterName); got != "nulls" {
		t.Errorf("null members: got cluster %q, want nulls", got)
	}
	if out.Cluster.Tags == nil || len(out.Cluster.Tags) != 0 {
		t.Errorf("null members: got tags %v, want []", out.Cluster.Tags)
	}
	r = e.call("ListClusters", `{"maxResults":null,"nextToken":null}`)
	c.ok("null paging", r)
	r = e.call("RegisterTaskDefinition", fmt.Sprintf(taskDefBody, `,"cpu":null,"portMappings":null,"essential":null`, `,"tags":null,"cpu":null`))
	c.ok("null task definition members", r)
	var td struct {
		TaskDefinition map[string]any `json:"taskDefinition"`
	}
	if err := json.Unmarshal(r.Body, &td); err != nil {
		t.Fatal(err)
	}
	cd := td.TaskDefinition["containerDefinitions"].([]any)[0].(map[string]any)
	if cd["cpu"] != 0.0 || cd["essential"] != true || fmt.Sprint(cd["portMappings"]) != "[]" {
		t.Errorf("null task definition members: got cpu %v essential %v portMappings %v, want 0 true []", cd["cpu"], cd["essential"], cd["portMappings"])
	}
	if _, ok := td.TaskDefinition["cpu"]; ok {
		t.Errorf("null task definition members: got task cpu %v, want it absent", td.TaskDefinition["cpu"])
	}
}

func TestWire_Targets(t *testing.T) {
	e := start(t)
	c := newWireChecker(t)
	const unknown = "UnknownOperationException"
	for _, tc := range []struct{ name, target, msg string }{
		{"no target", "", "The X-Amz-Target header must be AmazonEC2ContainerServiceV20141113.<Operation>."},
		{"other service", "DynamoDB_20120810.ListTables", "The X-Amz-Target header must be AmazonEC2ContainerServiceV20141113.<Operation>."},
		{"prefix only", "AmazonEC2ContainerServiceV20141113", "The X-Amz-Target header must be AmazonEC2ContainerServiceV20141113.<Operation>."},
		{"lower-case prefix", "amazonec2containerservicev20141113.ListClusters", "The X-Amz-Target header must be AmazonEC2ContainerServiceV20141113.<Operation>."},
		{"unknown operation", wireTarget + "ListEverything", "Unknown operation ListEverything."},
		{"lower-case operation", wireTarget + "listClusters", "Unknown operation listClusters."},
		{"empty operation", wireTarget, "The X-Amz-Target header must be AmazonEC2ContainerServiceV20141113.<Operation>."},
	} {
		unchanged(t, e, tc.name, func() {
			c.fails(tc.name, e.wire(wireReq{target: tc.target, body: []byte(`{"clusterName":"t"}`), sign: true}), unknown, tc.msg, false)
		})
	}

	// Every real ECS operation berth does not serve yet says so by name.
	served := ecsapi.Implemented()
	missing := 0
	for _, op := range shape.Operations {
		if slices.Contains(served, op) {
			continue
		}
		missing++
		unchanged(t, e, op, func() {
			c.fails(op, e.call(op, `{}`), "UnsupportedFeatureException", "berth does not support the "+op+" operation yet.", false)
		})
	}
	for _, op := range served {
		if !slices.Contains(shape.Operations, op) {
			t.Errorf("got implemented operation %s, want only operations of the ECS model", op)
		}
	}
	if missing == 0 {
		t.Log("every model operation is implemented; nothing answers UnsupportedFeatureException")
	}

	// GET / is refused by authentication before anything looks at it.
	r := e.wire(wireReq{method: http.MethodGet})
	c.fails("GET / unsigned", r, "MissingAuthenticationTokenException", "Missing Authentication Token", false)
	r = e.wire(wireReq{method: http.MethodGet, sign: true})
	c.fails("GET / signed", r, unknown, "Operations are called with POST, not GET.", false)
}

// botoSign signs req the way botocore (the AWS CLI) does: only
// content-type;host;x-amz-date;x-amz-target, never content-length.
func botoSign(req *http.Request, body []byte, keyID, secret string, at time.Time) {
	stamp := at.UTC().Format("20060102T150405Z")
	req.Header.Set("X-Amz-Date", stamp)
	signed := []string{"content-type", "host", "x-amz-date", "x-amz-target"}
	var headers strings.Builder
	for _, h := range signed {
		v := req.Header.Get(h)
		if h == "host" {
			v = req.URL.Host
		}
		fmt.Fprintf(&headers, "%s:%s\n", h, strings.TrimSpace(v))
	}
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	creq := strings.Join([]string{req.Method, "/", "", headers.String(), strings.Join(signed, ";"), hash(body)}, "\n")
	scope := stamp[:8] + "/" + testRegion + "/ecs/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hash([]byte(creq))
	key := mac(mac(mac(mac([]byte("AWS4"+secret), stamp[:8]), testRegion), "ecs"), "aws4_request")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		keyID, scope, strings.Join(signed, ";"), hex.EncodeToString(mac(key, sts))))
}

var signedHeadersPattern = regexp.MustCompile(`SignedHeaders=([^,]*),`)

func TestWire_Authentication(t *testing.T) {
	e := start(t)
	c := newWireChecker(t)
	list := wireTarget + "ListClusters"
	create := wireTarget + "CreateCluster"

	r := e.wire(wireReq{target: list, body: []byte(`{}`)})
	c.fails("no Authorization", r, "MissingAuthenticationTokenException", "Missing Authentication Token", false)

	r = e.wire(wireReq{target: list, body: []byte(`{}`), sign: true, keyID: "AKIAUNKNOWNKEY000001", secret: testSecret})
	c.fails("unknown access key", r, "UnrecognizedClientException", "The security token included in the request is invalid.", false)

	unchanged(t, e, "wrong secret", func() {
		r = e.wire(wireReq{target: create, body: []byte(`{"clusterName":"a"}`), sign: true, keyID: testKeyID, secret: testSecret + "x"})
		c.fails("wrong secret", r, "InvalidSignatureException", wireMismatch, false)
	})

	// Six minutes off either way is outside the five-minute window.
	stamp := regexp.MustCompile(`\d{8}T\d{6}Z`)
	parse := func(s string) time.Time { tm, _ := time.Parse("20060102T150405Z", s); return tm }
	for _, tc := range []struct {
		name   string
		offset time.Duration
		format string
		sign   time.Duration // window applied to the server's now
	}{
		{"expired", -6 * time.Minute, "Signature expired: %s is now earlier than %s (%s - 5 min.)", -5 * time.Minute},
		{"not yet current", 6 * time.Minute, "Signature not yet current: %s is still later than %s (%s + 5 min.)", 5 * time.Minute},
	} {
		at := time.Now().Add(tc.offset).UTC()
		sent := time.Now()
		r := e.wire(wireReq{target: list, body: []byte(`{}`), sign: true, at: at})
		got := stamp.FindAllString(r.Message, -1)
		if len(got) != 3 {
			t.Errorf("%s: got message %q, want three timestamps", tc.name, r.Message)
			continue
		}
		now := parse(got[2])
		if now.Before(sent.Add(-2*time.Second)) || now.After(time.Now().Add(2*time.Second)) {
			t.Errorf("%s: got server time %s, want about %s", tc.name, got[2], sent.UTC().Format(time.RFC3339))
		}
		want := fmt.Sprintf(tc.format, at.Format("20060102T150405Z"), now.Add(tc.sign).Format("20060102T150405Z"), got[2])
		c.fails(tc.name, r, "InvalidSignatureException", want, false)
	}

	// A body changed after signing (same length) does not verify.
	unchanged(t, e, "body changed", func() {
		r = e.wire(wireReq{target: create, body: []byte(`{"clusterName":"bodyA"}`), sign: true, after: func(req *http.Request) {
			b := []byte(`{"clusterName":"bodyB"}`)
			req.Body = io.NopCloser(bytes.NewReader(b))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}})
		c.fails("body changed", r, "InvalidSignatureException", wireMismatch, false)
	})
	// So does a signed header: the operation cannot be swapped.
	unchanged(t, e, "target changed", func() {
		r = e.wire(wireReq{target: list, body: []byte(`{"clusterName":"swap"}`), sign: true, after: func(req *http.Request) {
			req.Header.Set("X-Amz-Target", create)
		}})
		c.fails("target changed", r, "InvalidSignatureException", wireMismatch, false)
	})

	// Headers outside SignedHeaders may change on the way.
	var signed string
	r = e.wire(wireReq{target: create, body: []byte(`{"clusterName":"unsigned"}`), sign: true, after: func(req *http.Request) {
		if m := signedHeadersPattern.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
			signed = m[1]
		}
		req.Header.Set("User-Agent", "proxy/1.0") // present when signing, but never signed
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
	}, before: func(req *http.Request) {
		req.Header.Set("User-Agent", "aws-sdk-go-v2/1.0")
	}})
	c.ok("unsigned headers changed", r)
	if strings.Contains(signed, "user-agent") || strings.Contains(signed, "x-forwarded-for") {
		t.Errorf("got SignedHeaders %s, want neither user-agent nor x-forwarded-for", signed)
	}

	// The AWS CLI signs four headers and sends JSON with spaces.
	body := []byte(`{"clusterName": "boto", "tags": [{"key": "by", "value": "cli"}]}`)
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", create)
	req.Header.Set("User-Agent", "aws-cli/2.9.19")
	at := time.Now()
	botoSign(req, body, testKeyID, testSecret, at)
	m := signedHeadersPattern.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil || m[1] != "content-type;host;x-amz-date;x-amz-target" {
		t.Fatalf("got Authorization %q, want SignedHeaders=content-type;host;x-amz-date;x-amz-target", req.Header.Get("Authorization"))
	}
	// The test's signer agrees with the SDK's on the same four headers.
	check, _ := http.NewRequest(http.MethodPost, e.endpoint+"/", nil)
	for _, h := range []string{"Content-Type", "X-Amz-Target"} {
		check.Header.Set(h, req.Header.Get(h))
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		check, hex.EncodeToString(sum[:]), "ecs", testRegion, at); err != nil {
		t.Fatal(err)
	}
	if got, want := req.Header.Get("Authorization"), check.Header.Get("Authorization"); got != want {
		t.Fatalf("got test signature %q, want the SDK's %q", got, want)
	}
	if req.ContentLength != int64(len(body)) {
		t.Fatalf("got ContentLength %d, want %d: the request must carry an unsigned Content-Length", req.ContentLength, len(body))
	}
	r = e.do(req)
	c.ok("botocore signing", r)
	if !strings.Contains(string(r.Body), `"clusterName":"boto"`) {
		t.Errorf("botocore signing: got %s, want cluster boto", r.Body)
	}
}

// walkNulls reports the paths of JSON nulls in v.
func walkNulls(path string, v any, out *[]string) {
	switch x := v.(type) {
	case nil:
		*out = append(*out, path)
	case map[string]any:
		for k, v := range x {
			walkNulls(path+"."+k, v, out)
		}
	case []any:
		for i, v := range x {
			walkNulls(fmt.Sprintf("%s[%d]", path, i), v, out)
		}
	}
}

// decodeAnswer decodes a success body keeping numbers as written and checks
// that it holds no null.
func decodeAnswer(t *testing.T, name string, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s: got %s (%v), want a JSON object", name, b, err)
	}
	var nulls []string
	walkNulls("", out, &nulls)
	if len(nulls) > 0 {
		t.Errorf("%s: got null at %v, want absent members instead", name, nulls)
	}
	return out
}

// member returns the member at a dotted path ("a.b.0.c") and whether it exists.
func member(v any, path string) (any, bool) {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestWire_SuccessShapes(t *testing.T) {
	e := start(t)
	c := newWireChecker(t)
	wantNumber := func(name string, obj any, path, want string) {
		t.Helper()
		v, ok := member(obj, path)
		if n, isNum := v.(json.Number); !ok || !isNum || n.String() != want {
			t.Errorf("%s: got %s = %#v (present %v), want the number %s", name, path, v, ok, want)
		}
	}
	wantEmptyList := func(name string, obj any, path string) {
		t.Helper()
		v, ok := member(obj, path)
		if l, isList := v.([]any); !ok || !isList || len(l) != 0 {
			t.Errorf("%s: got %s = %#v (present %v), want []", name, path, v, ok)
		}
	}
	wantAbsent := func(name string, obj any, path string) {
		t.Helper()
		if v, ok := member(obj, path); ok {
			t.Errorf("%s: got %s = %#v, want it absent", name, path, v)
		}
	}
	wantTimestamp := func(name string, obj any, path string) {
		t.Helper()
		v, ok := member(obj, path)
		n, isNum := v.(json.Number)
		f, err := n.Float64()
		if !ok || !isNum || err != nil {
			t.Errorf("%s: got %s = %#v, want epoch seconds as a JSON number", name, path, v)
			return
		}
		if !strings.Contains(n.String(), ".") || strings.ContainsAny(n.String(), "eE") {
			t.Errorf("%s: got %s = %s, want fractional epoch seconds like 1714567890.123", name, path, n)
		}
		if at := time.UnixMilli(int64(f * 1000)); time.Since(at).Abs() > time.Minute {
			t.Errorf("%s: got %s = %s (%s), want about now", name, path, n, at.UTC())
		}
	}

	r := e.call("CreateCluster", `{"clusterName":"shapes"}`)
	c.ok("CreateCluster", r)
	out := decodeAnswer(t, "CreateCluster", r.Body)
	for _, f := range []string{"registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount", "activeServicesCount"} {
		wantNumber("CreateCluster", out, "cluster."+f, "0")
	}
	for _, f := range []string{"statistics", "tags", "capacityProviders", "defaultCapacityProviderStrategy"} {
		wantEmptyList("CreateCluster", out, "cluster."+f)
	}
	wantAbsent("CreateCluster", out, "cluster.attachments")
	wantAbsent("CreateCluster", out, "cluster.configuration")

	r = e.call("DescribeClusters", `{"clusters":["shapes"]}`)
	c.ok("DescribeClusters", r)
	out = decodeAnswer(t, "DescribeClusters", r.Body)
	wantNumber("DescribeClusters", out, "clusters.0.registeredContainerInstancesCount", "0")
	wantEmptyList("DescribeClusters", out, "failures")
	wantAbsent("DescribeClusters", out, "clusters.0.tags")
	wantAbsent("DescribeClusters", out, "clusters.0.statistics")

	r = e.call("RegisterTaskDefinition", fmt.Sprintf(taskDefBody, "", ""))
	c.ok("RegisterTaskDefinition", r)
	out = decodeAnswer(t, "RegisterTaskDefinition", r.Body)
	wantNumber("RegisterTaskDefinition", out, "taskDefinition.revision", "1")
	wantNumber("RegisterTaskDefinition", out, "taskDefinition.containerDefinitions.0.cpu", "0")
	wantNumber("RegisterTaskDefinition", out, "taskDefinition.containerDefinitions.0.memory", "128")
	wantTimestamp("RegisterTaskDefinition", out, "taskDefinition.registeredAt")
	for _, p := range []string{"tags", "taskDefinition.volumes", "taskDefinition.placementConstraints",
		"taskDefinition.containerDefinitions.0.portMappings", "taskDefinition.containerDefinitions.0.environment",
		"taskDefinition.containerDefinitions.0.mountPoints", "taskDefinition.containerDefinitions.0.volumesFrom"} {
		wantEmptyList("RegisterTaskDefinition", out, p)
	}
	for _, p := range []string{"taskDefinition.cpu", "taskDefinition.memory", "taskDefinition.deregisteredAt",
		"taskDefinition.taskRoleArn", "taskDefinition.containerDefinitions.0.memoryReservation",
		"taskDefinition.containerDefinitions.0.healthCheck", "taskDefinition.containerDefinitions.0.command"} {
		wantAbsent("RegisterTaskDefinition", out, p)
	}
	if v, _ := member(out, "taskDefinition.containerDefinitions.0.essential"); v != true {
		t.Errorf("RegisterTaskDefinition: got essential %#v, want true", v)
	}

	r = e.call("DeregisterTaskDefinition", `{"taskDefinition":"wire:1"}`)
	c.ok("DeregisterTaskDefinition", r)
	out = decodeAnswer(t, "DeregisterTaskDefinition", r.Body)
	wantTimestamp("DeregisterTaskDefinition", out, "taskDefinition.deregisteredAt")
	wantTimestamp("DeregisterTaskDefinition", out, "taskDefinition.registeredAt")

	r = e.call("ListTaskDefinitionFamilies", `{"familyPrefix":"nothing"}`)
	c.ok("ListTaskDefinitionFamilies", r)
	out = decodeAnswer(t, "ListTaskDefinitionFamilies", r.Body)
	wantEmptyList("ListTaskDefinitionFamilies", out, "families")
	wantAbsent("ListTaskDefinitionFamilies", out, "nextToken")
}

// countingClient counts the HTTP requests an SDK client sends.
type countingClient struct {
	inner interface {
		Do(*http.Request) (*http.Response, error)
	}
	n atomic.Int32
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.Do(r)
}

// retryingClient returns an ECS client with the SDK's standard retryer
// (three attempts) and a counter of the HTTP requests it sends.
func retryingClient(t *testing.T, endpoint, id, secret string) (*ecs.Client, *countingClient) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.NewStandard() }),
	)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	if got := cfg.Retryer().MaxAttempts(); got != 3 {
		t.Fatalf("got %d attempts, want the standard 3", got)
	}
	counter := &countingClient{inner: awshttp.NewBuildableClient()}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = counter
	}), counter
}

type wireSDKCase struct {
	name  string
	call  func() error
	check func(error)
}

func TestWire_ClientErrorsAreNotRetried(t *testing.T) {
	e := start(t)
	cl, counter := retryingClient(t, e.endpoint, testKeyID, testSecret)
	c := ctx(t)
	cases := []wireSDKCase{
		{"success", func() error { _, err := cl.ListClusters(c, &ecs.ListClustersInput{}); return err }, func(err error) {
			if err != nil {
				t.Errorf("success: got %v, want none", err)
			}
		}},
		{"validation", func() error {
			_, err := cl.ListClusters(c, &ecs.ListClustersInput{MaxResults: aws.Int32(1000)})
			return err
		}, func(err error) { wantAPIError[*types.InvalidParameterException](t, err, "maxResults") }},
		{"not found", func() error {
			_, err := cl.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String("nope")})
			return err
		}, func(err error) { wantAPIError[*types.ClusterNotFoundException](t, err, "Cluster not found.") }},
		{"client exception", func() error {
			_, err := cl.DescribeTaskDefinition(c, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")})
			return err
		}, func(err error) { wantAPIError[*types.ClientException](t, err, "Unable to describe task definition.") }},
	}
	if !slices.Contains(ecsapi.Implemented(), "CreateService") {
		cases = append(cases, wireSDKCase{"unsupported", func() error {
			_, err := cl.CreateService(c, &ecs.CreateServiceInput{ServiceName: aws.String("s")})
			return err
		}, func(err error) { wantCode(t, err, "UnsupportedFeatureException", "CreateService") }})
	}
	for _, tc := range cases {
		before := counter.n.Load()
		tc.check(tc.call())
		if got := counter.n.Load() - before; got != 1 {
			t.Errorf("%s: got %d HTTP requests, want 1", tc.name, got)
		}
	}

	// Authentication errors are not retried either.
	bad, badCounter := retryingClient(t, e.endpoint, "AKIAUNKNOWNKEY000001", testSecret)
	_, err := bad.ListClusters(c, &ecs.ListClustersInput{})
	wantCode(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	wrong, wrongCounter := retryingClient(t, e.endpoint, testKeyID, testSecret+"x")
	_, err = wrong.ListClusters(c, &ecs.ListClustersInput{})
	wantCode(t, err, "InvalidSignatureException", wireMismatch)
	if b, w := badCounter.n.Load(), wrongCounter.n.Load(); b != 1 || w != 1 {
		t.Errorf("got %d and %d HTTP requests for authentication errors, want 1 each", b, w)
	}

	// The counter does see retries: a server answering 500 gets three.
	var hits atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"ServerException","message":"boom"}`))
	}))
	defer fake.Close()
	flaky, flakyCounter := retryingClient(t, fake.URL, testKeyID, testSecret)
	_, err = flaky.ListClusters(c, &ecs.ListClustersInput{})
	wantAPIError[*types.ServerException](t, err, "boom")
	if got := flakyCounter.n.Load(); got != 3 || hits.Load() != 3 {
		t.Errorf("got %d HTTP requests (%d seen) for a 500, want 3", got, hits.Load())
	}
}
