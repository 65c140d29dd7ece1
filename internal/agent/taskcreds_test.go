package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
)

// envValue is the value of name in env ("" when unset).
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func TestTaskEndpoint_EnvCredentialsAndMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskEndpoint = true
		ta := h.start()
		withRole := app(1, "img", "img")
		withRole.Definition.TaskRoleArn = ptr("arn:aws:iam::123456789012:role/app")
		noRole := app(2, "img")
		h.srv.run(withRole)
		h.srv.run(noRole)
		ta.settle()

		cs := h.containersOf(withRole.TaskArn)
		slices.SortFunc(cs, func(a, b fakedriver.Container) int {
			return strings.Compare(a.Handle.Labels[driver.LabelContainerName], b.Handle.Labels[driver.LabelContainerName])
		})
		env := cs[0].Env
		rel := envValue(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
		meta := envValue(env, "ECS_CONTAINER_METADATA_URI_V4")
		if !strings.HasPrefix(rel, "/v2/credentials/") || !strings.HasPrefix(meta, "http://169.254.170.2/v4/") ||
			envValue(env, "AWS_REGION") != "us-east-1" || envValue(env, "AWS_DEFAULT_REGION") != "us-east-1" ||
			!strings.HasPrefix(envValue(env, "ECS_CONTAINER_METADATA_URI"), "http://169.254.170.2/v3/") {
			t.Fatalf("environment %q", env)
		}
		if envValue(cs[1].Env, "ECS_CONTAINER_METADATA_URI_V4") == meta {
			t.Fatal("two containers share a metadata ID")
		}
		other := h.containersOf(noRole.TaskArn)
		if v := envValue(other[0].Env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); v != "" {
			t.Fatalf("a task without a role got %q", v)
		}

		get := func(path string) (int, map[string]any) {
			w := httptest.NewRecorder()
			ta.a.TaskEndpointHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			var m map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &m)
			return w.Code, m
		}
		code, c := get(rel)
		if code != 200 || c["AccessKeyId"] != "ASIAFAKE" || c["Token"] != "token" || c["RoleArn"] != "arn:aws:iam::123456789012:role/app" {
			t.Fatalf("credentials: %d %v", code, c)
		}
		// The other task's ID, derived the same way, serves nothing.
		if code, _ := get(ta.a.endpoint.CredentialsPath(noRole.TaskArn)); code != http.StatusNotFound {
			t.Fatalf("a task without a role: %d", code)
		}
		path := strings.TrimPrefix(meta, "http://169.254.170.2")
		code, task := get(path + "/task")
		if code != 200 || task["TaskARN"] != withRole.TaskArn || task["KnownStatus"] != "RUNNING" || len(task["Containers"].([]any)) != 2 {
			t.Fatalf("task metadata: %d %v", code, task)
		}
		code, cm := get(path)
		if code != 200 || cm["Name"] != "c0" || cm["DockerId"] == "" || cm["KnownStatus"] != "RUNNING" {
			t.Fatalf("container metadata: %d %v", code, cm)
		}

		h.srv.stopTask(withRole.TaskArn)
		ta.settle()
		if code, _ := get(rel); code != http.StatusNotFound {
			t.Fatalf("a stopped task's credentials: %d", code)
		}
	})
}

// awsvpc tasks' metadata Networks carry the task's address, subnet,
// gateway (CIDR form) and MAC.
func TestTaskEndpoint_AWSVPCNetworks(t *testing.T) {
	task := app(3, "img")
	task.Definition.NetworkMode = "awsvpc"
	task.Network = &agentproto.TaskNetwork{Address: "10.20.1.7/24", Gateway: "10.20.1.1", MAC: "0a:58:0a:14:01:07", PrivateDNSName: "ip-10-20-1-7.ec2.internal"}
	r := &runner{a: &Agent{cfg: Config{TaskDNS: "169.254.170.2"}}, task: task}
	got := r.metadataNetworks()
	if len(got) != 1 {
		t.Fatalf("networks %+v", got)
	}
	n := got[0]
	if n.NetworkMode != "awsvpc" || len(n.IPv4Addresses) != 1 || n.IPv4Addresses[0] != "10.20.1.7" || n.IPv4SubnetCIDRBlock != "10.20.1.0/24" ||
		n.SubnetGatewayIpv4Address != "10.20.1.1/24" || n.MACAddress != "0a:58:0a:14:01:07" || n.PrivateDNSName != "ip-10-20-1-7.ec2.internal" ||
		n.AttachmentIndex == nil || *n.AttachmentIndex != 0 || len(n.DomainNameServers) != 1 {
		t.Fatalf("network %+v", n)
	}
	bridge := app(4, "img")
	r = &runner{a: &Agent{}, task: bridge}
	if got := r.metadataNetworks(); len(got) != 1 || got[0].NetworkMode != "bridge" || got[0].IPv4Addresses != nil {
		t.Fatalf("bridge networks %+v", got)
	}
}
