package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

var fuzzNamer = arn.Namer{Partition: "aws", Region: "us-east-1", Account: "123456789012"}

// fuzzNow is the fixed clock of every fuzzed request.
var fuzzNow = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

// instanceID is the container instance the fuzz state starts with.
const instanceID = "0123456789abcdef0123456789abcdef"

// machineProposer applies commands straight to a machine, as a one-node
// raft would after committing them.
type machineProposer struct {
	mu    sync.Mutex
	index uint64
	m     *fsm.Machine
}

func (p *machineProposer) Apply(_ context.Context, c wire.Command) (any, error) {
	entry, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.index++
	r := p.m.Apply(p.index, entry)
	return r.Value, r.Err
}

// allowAll authenticates every request as the account root.
type allowAll struct{}

func (allowAll) Authenticate(*http.Request, []byte, string) (string, error) {
	return fuzzNamer.Root(), nil
}

func newFuzzAPI(m *fsm.Machine) *ecsapi.API {
	return ecsapi.New(ecsapi.Config{
		Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: &machineProposer{m: m},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow },
	})
}

// serve sends one request for op with body to api.
func serve(api http.Handler, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", ecsapi.TargetPrefix+"."+op)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

func persist(t testing.TB, m *fsm.Machine) []byte {
	var b bytes.Buffer
	if err := fsm.Persist(m.Snapshot(), &b); err != nil {
		t.Fatalf("persist: %v", err)
	}
	return b.Bytes()
}

const clusterARN = "arn:aws:ecs:us-east-1:123456789012:cluster/web"

// fuzzState returns a persisted state with something for every operation
// to find: clusters, task definitions, a container instance, attributes,
// tags and account settings.
func fuzzState(t testing.TB) []byte {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	api := newFuzzAPI(m)
	p := &machineProposer{m: m}
	for _, step := range []struct{ op, body string }{
		{"CreateCluster", `{}`},
		{"CreateCluster", `{"clusterName":"web","tags":[{"key":"team","value":"blue"}],"capacityProviders":["FARGATE"]}`},
		{"RegisterTaskDefinition", realisticTaskDef},
		{"RegisterTaskDefinition", realisticTaskDef},
		{"RegisterTaskDefinition", `{"family":"old","containerDefinitions":[{"name":"a","image":"b","memory":64}]}`},
		{"DeregisterTaskDefinition", `{"taskDefinition":"old:1"}`},
		{"PutAccountSetting", `{"name":"containerInsights","value":"enabled"}`},
		{"CreateService", `{"serviceName":"svc","taskDefinition":"app:1","desiredCount":0}`},
		{"UpdateService", `{"service":"svc","forceNewDeployment":true}`},
	} {
		if rec := serve(api, step.op, []byte(step.body)); rec.Code != http.StatusOK {
			t.Fatalf("setup %s: got %d %s, want 200", step.op, rec.Code, rec.Body)
		}
	}
	_, err := p.Apply(context.Background(), wire.RegisterContainerInstance{
		Meta: wire.Meta{Now: fuzzNow, Principal: fuzzNamer.Root()}, Cluster: "default", NewID: instanceID,
		EC2InstanceID: "i-0123456789abcdef0",
		TotalResources: []shape.Resource{
			{Name: ptr("CPU"), Type: ptr("INTEGER"), IntegerValue: 2048},
			{Name: ptr("MEMORY"), Type: ptr("INTEGER"), IntegerValue: 4096},
			{Name: ptr("PORTS"), Type: ptr("STRINGSET"), StringSetValue: []string{"22"}},
		},
		Attributes: []shape.Attribute{{Name: ptr("ecs.os-type"), Value: ptr("linux")}},
	})
	if err != nil {
		t.Fatalf("setup instance: %v", err)
	}
	if rec := serve(api, "PutAttributes", []byte(`{"cluster":"default","attributes":[{"name":"stack","value":"prod","targetType":"container-instance","targetId":"`+instanceID+`"}]}`)); rec.Code != http.StatusOK {
		t.Fatalf("setup attributes: got %d %s, want 200", rec.Code, rec.Body)
	}
	return persist(t, m)
}

func ptr[T any](v T) *T { return &v }

const realisticTaskDef = `{"family":"app","taskRoleArn":"arn:aws:iam::123456789012:role/app","networkMode":"bridge",
"containerDefinitions":[{"name":"web","image":"nginx:1.27","cpu":128,"memory":256,"memoryReservation":128,"essential":true,
"portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}],"environment":[{"name":"A","value":"1"}],
"command":["nginx","-g","daemon off;"],"dockerLabels":{"x":"y"},"ulimits":[{"name":"nofile","softLimit":1024,"hardLimit":2048}],
"logConfiguration":{"logDriver":"json-file","options":{"max-size":"10m"}},
"healthCheck":{"command":["CMD-SHELL","true"],"interval":30,"timeout":5,"retries":3},
"mountPoints":[{"sourceVolume":"data","containerPath":"/data","readOnly":false}]},
{"name":"side","image":"busybox","memory":32,"essential":false,"dependsOn":[{"containerName":"web","condition":"START"}]}],
"volumes":[{"name":"data","host":{"sourcePath":"/srv/data"}}],
"placementConstraints":[{"type":"memberOf","expression":"attribute:ecs.os-type == linux"}],
"requiresCompatibilities":["EC2"],"tags":[{"key":"app","value":"web"}]}`

// fuzzSeeds are realistic bodies for the implemented operations.
var fuzzSeeds = map[string][]string{
	"CreateCluster": {`{"clusterName":"fz","tags":[{"key":"a","value":"b"}],"settings":[{"name":"containerInsights","value":"enabled"}],` +
		`"configuration":{"executeCommandConfiguration":{"logging":"DEFAULT"}},"serviceConnectDefaults":{"namespace":"ns"}}`},
	"DescribeClusters":            {`{"clusters":["default","web","nope",""],"include":["TAGS","STATISTICS","SETTINGS","CONFIGURATIONS","ATTACHMENTS"]}`},
	"ListClusters":                {`{"maxResults":1}`, `{"maxResults":1,"nextToken":"eyJvIjoiTGlzdENsdXN0ZXJzIiwiayI6ImRlZmF1bHQifQ"}`},
	"DeleteCluster":               {`{"cluster":"web"}`, `{"cluster":"default"}`, `{"cluster":"` + clusterARN + `"}`},
	"UpdateCluster":               {`{"cluster":"web","settings":[{"name":"containerInsights","value":"disabled"}],"configuration":{"executeCommandConfiguration":{"logging":"OVERRIDE"}}}`},
	"UpdateClusterSettings":       {`{"cluster":"web","settings":[{"name":"containerInsights","value":"enhanced"}]}`},
	"PutClusterCapacityProviders": {`{"cluster":"web","capacityProviders":["FARGATE","FARGATE_SPOT"],"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1,"base":1}]}`},
	"RegisterTaskDefinition": {realisticTaskDef,
		`{"family":"fg","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"b"}]}`},
	"DescribeTaskDefinition":     {`{"taskDefinition":"app","include":["TAGS"]}`, `{"taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"}`},
	"ListTaskDefinitions":        {`{"familyPrefix":"app","status":"ACTIVE","sort":"DESC","maxResults":1}`},
	"ListTaskDefinitionFamilies": {`{"familyPrefix":"a","status":"ALL","maxResults":1}`},
	"DeregisterTaskDefinition":   {`{"taskDefinition":"app:1"}`},
	"DeleteTaskDefinitions":      {`{"taskDefinitions":["old:1","app:9","bad"]}`},
	"RegisterContainerInstance": {`{"cluster":"default","totalResources":[{"name":"CPU","type":"INTEGER","integerValue":2048},` +
		`{"name":"MEMORY","type":"INTEGER","integerValue":4096},{"name":"PORTS","type":"STRINGSET","stringSetValue":["22","2375"]}],` +
		`"versionInfo":{"agentVersion":"1.80.0","dockerVersion":"24.0.5"},"attributes":[{"name":"ecs.os-type","value":"linux"}],` +
		`"instanceIdentityDocument":"{\"instanceId\":\"i-0fedcba9876543210\",\"availabilityZone\":\"us-east-1a\",\"instanceType\":\"t3.micro\",\"region\":\"us-east-1\"}",` +
		`"tags":[{"key":"k","value":"v"}]}`},
	"DeregisterContainerInstance":   {`{"cluster":"default","containerInstance":"` + instanceID + `","force":true}`},
	"DescribeContainerInstances":    {`{"cluster":"default","containerInstances":["` + instanceID + `","nope"],"include":["TAGS","CONTAINER_INSTANCE_HEALTH"]}`},
	"ListContainerInstances":        {`{"cluster":"default","filter":"attribute:ecs.os-type == linux and runningTasksCount == 0","status":"ACTIVE","maxResults":5}`},
	"UpdateContainerInstancesState": {`{"cluster":"default","containerInstances":["` + instanceID + `"],"status":"DRAINING"}`},
	"PutAttributes":                 {`{"cluster":"default","attributes":[{"name":"color","value":"red","targetType":"container-instance","targetId":"` + instanceID + `"}]}`},
	"DeleteAttributes":              {`{"cluster":"default","attributes":[{"name":"stack","targetType":"container-instance","targetId":"` + instanceID + `"}]}`},
	"ListAttributes":                {`{"cluster":"default","targetType":"container-instance","attributeName":"stack","attributeValue":"prod"}`},
	"TagResource":                   {`{"resourceArn":"` + clusterARN + `","tags":[{"key":"k","value":"v"}]}`},
	"UntagResource":                 {`{"resourceArn":"` + clusterARN + `","tagKeys":["team"]}`},
	"ListTagsForResource":           {`{"resourceArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"}`},
	"ListAccountSettings":           {`{"effectiveSettings":true,"name":"containerInsights","maxResults":2}`},
	"PutAccountSetting":             {`{"name":"awsvpcTrunking","value":"enabled","principalArn":"arn:aws:iam::123456789012:user/bob"}`},
	"PutAccountSettingDefault":      {`{"name":"containerInsights","value":"disabled"}`},
	"DeleteAccountSetting":          {`{"name":"containerInsights"}`},
	"ListTasks":                     {`{"cluster":"default","desiredStatus":"RUNNING","family":"app","containerInstance":"` + instanceID + `"}`},
	"DescribeTasks":                 {`{"cluster":"default","tasks":["0123456789abcdef0123456789abcdee"],"include":["TAGS"]}`},
	"ListServiceDeployments": {`{"service":"svc","status":["IN_PROGRESS","STOPPED"],"createdAt":{"after":1746100000,"before":1746110000},"maxResults":1}`,
		`{"cluster":"default","service":"arn:aws:ecs:us-east-1:123456789012:service/default/svc","maxResults":1,"nextToken":"eyJvIjoiTGlzdFNlcnZpY2VEZXBsb3ltZW50cyIsImsiOiIwMDAwMDAxNzQ2MTAwODAwMDAwL2Vjcy1zdmMvMSJ9"}`},
	"DescribeServiceDeployments": {`{"serviceDeploymentArns":["arn:aws:ecs:us-east-1:123456789012:service-deployment/default/svc/1000000000000000001","nope"]}`},
	"DescribeServiceRevisions": {`{"serviceRevisionArns":["arn:aws:ecs:us-east-1:123456789012:service-revision/default/svc/1000000000000000001",` +
		`"arn:aws:ecs:us-east-1:123456789012:service-revision/default/svc","arn:aws:ecs:eu-west-1:123456789012:service-revision/a/b/1"]}`},
}

// junkBodies are malformed or odd bodies every operation gets as seeds.
var junkBodies = []string{
	"", "{}", "null", "[]", `"x"`, "1", `{"a":1}`, "{", `{"cluster":null}`, `{} {}`, `{"cluster":"default"}x`,
	`{"maxResults":2147483648}`, `{"maxResults":1.5}`, `{"clusters":[null]}`, `{"Cluster":"default"}`,
	`{"nextToken":"!!!"}`, `{"tags":[{"key":"aws:x","value":"y"}]}`, "\xff\xfe", `{"cluster":"\u0000"}`,
}

// slowRequest is far more than any request should take, even on a loaded
// machine; a request that takes longer is a denial of service.
const slowRequest = 10 * time.Second

func FuzzDispatch(f *testing.F) {
	base := fuzzState(f)
	for _, op := range ecsapi.Implemented() {
		for _, b := range fuzzSeeds[op] {
			f.Add(op, []byte(b))
		}
		for _, b := range junkBodies {
			f.Add(op, []byte(b))
		}
	}
	for op := range fuzzSeeds {
		if !slices.Contains(ecsapi.Implemented(), op) {
			f.Errorf("got a seed for %s, want seeds only for implemented operations", op)
		}
	}
	for _, op := range []string{"", "CreateService", "RunTask", "Nope", "listClusters", "ListClusters ", "ListClusters.x", "\x00"} {
		f.Add(op, []byte(`{}`))
	}

	f.Fuzz(func(t *testing.T, op string, body []byte) {
		m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
		if err := m.Restore(bytes.NewReader(base)); err != nil {
			t.Fatalf("restore: %v", err)
		}
		api := newFuzzAPI(m)
		before := persist(t, m)
		start := time.Now()
		rec := serve(api, op, body)
		if d := time.Since(start); d > slowRequest {
			t.Fatalf("%s %q: took %s, want under %s", op, body, d, slowRequest)
		}

		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s %q: got status %d %s, want 200 or 400", op, body, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Fatalf("%s %q: got Content-Type %q, want application/x-amz-json-1.1", op, body, got)
		}
		if rec.Header().Get("x-amzn-RequestId") == "" {
			t.Fatalf("%s %q: got no x-amzn-RequestId, want one", op, body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: got body %q (%v), want a JSON object", op, body, rec.Body, err)
		}
		if rec.Code == http.StatusOK {
			if _, isErr := out["__type"]; isErr {
				t.Fatalf("%s %q: got 200 with __type %v, want no __type", op, body, out["__type"])
			}
			return
		}
		code, _ := out["__type"].(string)
		msg, isString := out["message"].(string)
		if code == "" || !isString || msg == "" {
			t.Fatalf("%s %q: got error body %s, want __type and message", op, body, rec.Body)
		}
		if code == apierr.Server {
			t.Fatalf("%s %q: got %s %q for a client's request, want a client error", op, body, code, msg)
		}
		if got := rec.Header().Get("X-Amzn-ErrorType"); got != code {
			t.Fatalf("%s %q: got X-Amzn-ErrorType %q, want %q", op, body, got, code)
		}
		if after := persist(t, m); !bytes.Equal(before, after) {
			t.Fatalf("%s %q: got state changed by a request answered %s %q, want it unchanged\nbefore:\n%s\nafter:\n%s", op, body, code, msg, before, after)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, b := range junkBodies {
		f.Add([]byte(b))
	}
	for _, seeds := range fuzzSeeds {
		for _, b := range seeds {
			f.Add([]byte(b))
		}
	}
	for _, b := range []string{
		`{"containerDefinitions":[{"cpu":1e3}]}`, `{"containerDefinitions":[{"dockerLabels":{"a":null}}]}`,
		`{"cluster":"a","cluster":"b"}`, `{"clusterName":"\ud800"}`, `{"include":["TAGS",1]}`,
		`{"containerDefinitions":[{"linuxParameters":{"capabilities":{"add":["NET_ADMIN"]}}}]}`,
		strings.Repeat("[", 100000), strings.Repeat(`{"a":`, 1000),
		`{"containerDefinitions":[{"resourceRequirements":[{"type":"GPU","value":"1"}]}],"volumes":[{"dockerVolumeConfiguration":{"labels":{"a":"b"}}}]}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{
			new(shape.CreateClusterRequest), new(shape.RegisterTaskDefinitionRequest),
			new(shape.DescribeClustersRequest), new(shape.ListClustersRequest),
			new(shape.RegisterContainerInstanceRequest), new(shape.SubmitTaskStateChangeRequest),
			new(map[string]any),
		}
		blank := len(bytes.TrimSpace(body)) == 0
		for _, v := range targets {
			err := ecsapi.Decode(body, v)
			if err == nil {
				if !blank && !json.Valid(body) {
					t.Fatalf("Decode(%q, %T): got no error for a body that is not JSON, want one", body, v)
				}
				// What Decode accepts, encoding/json accepts even strictly, and
				// re-encoded it decodes again to the same value.
				again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
				if !blank {
					dec := json.NewDecoder(bytes.NewReader(body))
					dec.DisallowUnknownFields()
					if err := dec.Decode(again); err != nil {
						t.Fatalf("Decode(%q, %T): accepted what encoding/json refuses: %v", body, v, err)
					}
				}
				enc, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("Decode(%q, %T): got a value that does not encode: %v", body, v, err)
				}
				again = reflect.New(reflect.TypeOf(v).Elem()).Interface()
				if err := ecsapi.Decode(enc, again); err != nil {
					t.Fatalf("Decode(%q, %T): re-encoded as %s, got %v, want it accepted", body, v, enc, err)
				}
				if !reflect.DeepEqual(v, again) {
					t.Fatalf("Decode(%q, %T): got %#v, and %#v after a round trip, want them equal", body, v, v, again)
				}
				continue
			}
			var e *apierr.Error
			if !errors.As(err, &e) || e != err {
				t.Fatalf("Decode(%q, %T): got %T %v, want an *apierr.Error", body, v, err, err)
			}
			if e.Code != apierr.Serialization && e.Code != apierr.InvalidParameter {
				t.Fatalf("Decode(%q, %T): got code %s, want SerializationException or InvalidParameterException", body, v, e.Code)
			}
			if e.Message == "" || len(e.Message) > 2048 {
				t.Fatalf("Decode(%q, %T): got message of %d bytes, want 1 to 2048", body, v, len(e.Message))
			}
		}
	})
}

func TestDecode(t *testing.T) {
	const ser, inv = apierr.Serialization, apierr.InvalidParameter
	for _, tc := range []struct {
		body      string
		into      any
		code, msg string // code "" means accepted
	}{
		{`{"pullStartedAt":1714567890.123}`, new(shape.SubmitTaskStateChangeRequest), "", ""},
		{`{"pullStartedAt":"2024-05-01T12:00:00Z"}`, new(shape.SubmitTaskStateChangeRequest), ser,
			"Invalid value for 'pullStartedAt': expected a timestamp (epoch seconds), got a string."},
		{`{"pullStartedAt":1e300}`, new(shape.SubmitTaskStateChangeRequest), ser,
			"Invalid value for 'pullStartedAt': expected a timestamp (epoch seconds), got the number 1e300."},
		{`{"containers":[{"exitCode":1.5}]}`, new(shape.SubmitTaskStateChangeRequest), ser,
			"Invalid value for 'containers[0].exitCode': expected an integer that fits in 32 bits, got the number 1.5."},
		{`{"containerDefinitions":[{"name":"a"},{"linuxParameters":{"capabilities":{"add":["X",null]}}}]}`, new(shape.RegisterTaskDefinitionRequest), ser,
			"Invalid value for 'containerDefinitions[1].linuxParameters.capabilities.add[1]': expected a string, got null."},
		{`{"containerDefinitions":[{"linuxParameters":{"capabilities":null}}]}`, new(shape.RegisterTaskDefinitionRequest), "", ""},
		{`{"containerDefinitions":[{"bogus":1}]}`, new(shape.RegisterTaskDefinitionRequest), inv,
			`Unknown parameter in containerDefinitions[0]: "bogus", must be one of: `},
		{`{"clusterName":"a","clusterName":"b"}`, new(shape.CreateClusterRequest), "", ""},
		{`{"clusterName":"a","clusterNAME":"b"}`, new(shape.CreateClusterRequest), inv, `Unknown parameter in input: "clusterNAME"`},
		{`{"` + strings.Repeat("k", 1000) + `":1}`, new(shape.CreateClusterRequest), inv,
			`Unknown parameter in input: "` + strings.Repeat("k", 64) + `...", must be one of: `},
		{strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), new(map[string]any), ser,
			"The request body nests objects and lists more than 64 levels deep."},
		{strings.Repeat("[", 100000), new(shape.CreateClusterRequest), ser, "The request body must be a JSON object, not a list."},
	} {
		err := ecsapi.Decode([]byte(tc.body), tc.into)
		body := tc.body
		if len(body) > 80 {
			body = body[:80] + "..."
		}
		if tc.code == "" {
			if err != nil {
				t.Errorf("Decode(%s): got %v, want no error", body, err)
			}
			continue
		}
		e, ok := apierr.As(err)
		if !ok || e.Code != tc.code || !strings.HasPrefix(e.Message, tc.msg) {
			t.Errorf("Decode(%s): got %v, want %s %q", body, err, tc.code, tc.msg)
		}
		if ok && len(e.Message) > 2048 {
			t.Errorf("Decode(%s): got a message of %d bytes, want at most 2048", body, len(e.Message))
		}
	}
	if v := new(shape.CreateClusterRequest); ecsapi.Decode([]byte(`{"clusterName":"a","clusterName":"b"}`), v) != nil || *v.ClusterName != "b" {
		t.Errorf("got clusterName %v for a repeated member, want the last one, b", v.ClusterName)
	}
}

// panicky fails the way a bug would.
type panicky struct{}

func (panicky) Authenticate(*http.Request, []byte, string) (string, error) { panic("bug") }

func TestPanicIsServerError(t *testing.T) {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	api := ecsapi.New(ecsapi.Config{Namer: fuzzNamer, Auth: panicky{}, State: m, Proposer: &machineProposer{m: m}})
	rec := serve(api, "ListClusters", []byte(`{}`))
	id := rec.Header().Get("x-amzn-RequestId")
	var out struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("got body %q (%v), want a JSON error", rec.Body, err)
	}
	if rec.Code != http.StatusInternalServerError || out.Type != apierr.Server || id == "" || !strings.HasSuffix(out.Message, "Request ID: "+id) {
		t.Fatalf("got %d %s %q (request ID %q), want 500 ServerException naming the request ID", rec.Code, out.Type, out.Message, id)
	}
}
