package ecsapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
)

// historyAPI is an API on a fresh machine whose clock moves one second
// per request.
type historyAPI struct {
	t   *testing.T
	api *ecsapi.API
	now time.Time
}

func newHistoryAPI(t *testing.T) *historyAPI {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	h := &historyAPI{t: t, now: fuzzNow}
	h.api = ecsapi.New(ecsapi.Config{
		Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: &machineProposer{m: m},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { h.now = h.now.Add(time.Second); return h.now },
	})
	return h
}

// call sends op and decodes a 200 answer into out, or fails.
func (h *historyAPI) call(op, body string, out any) {
	h.t.Helper()
	rec := serve(h.api, op, []byte(body))
	if rec.Code != http.StatusOK {
		h.t.Fatalf("%s %s: %d %s", op, body, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			h.t.Fatalf("%s: %v", op, err)
		}
	}
}

// fail sends op and wants a 400 with code.
func (h *historyAPI) fail(op, body, code string) {
	h.t.Helper()
	rec := serve(h.api, op, []byte(body))
	var e struct {
		Type string `json:"__type"`
	}
	json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusBadRequest || e.Type != code {
		h.t.Fatalf("%s %s: got %d %s, want 400 %s", op, body, rec.Code, rec.Body, code)
	}
}

// deploy creates service web or makes it a new deployment, and returns
// the new deployment's number.
func (h *historyAPI) deploy(op, body string) string {
	h.t.Helper()
	var out struct{ Service shape.Service }
	h.call(op, body, &out)
	return fsm.DeploymentNumber(*out.Service.Deployments[0].Id)
}

func (h *historyAPI) list(body string) shape.ListServiceDeploymentsResponse {
	h.t.Helper()
	var out shape.ListServiceDeploymentsResponse
	h.call("ListServiceDeployments", body, &out)
	return out
}

func numbers(briefs []shape.ServiceDeploymentBrief) []string {
	var out []string
	for _, b := range briefs {
		arn := *b.ServiceDeploymentArn
		out = append(out, arn[strings.LastIndexByte(arn, '/')+1:])
	}
	return out
}

const (
	deploymentArn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/"
	revisionArn   = "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/"
)

// TestServiceDeploymentHistory: ListServiceDeployments lists the current
// service's deployments newest first, each with its target revision ARN,
// filtered by status and createdAt and paged; DescribeServiceDeployments
// and DescribeServiceRevisions describe them by ARN. A service created
// again under the same name lists only its own deployments.
func TestServiceDeploymentHistory(t *testing.T) {
	h := newHistoryAPI(t)
	h.call("CreateCluster", `{}`, nil)
	h.call("RegisterTaskDefinition", `{"family":"app","containerDefinitions":[{"name":"a","image":"app:1","memory":64}]}`, nil)
	d1 := h.deploy("CreateService", `{"serviceName":"web","taskDefinition":"app","desiredCount":0}`)
	d2 := h.deploy("UpdateService", `{"service":"web","forceNewDeployment":true}`)
	d3 := h.deploy("UpdateService", `{"service":"web","forceNewDeployment":true}`)

	all := h.list(`{"service":"web"}`)
	if got := numbers(all.ServiceDeployments); !slices.Equal(got, []string{d3, d2, d1}) || all.NextToken != nil {
		t.Fatalf("listed %v (next %v), want newest first %v", got, all.NextToken, []string{d3, d2, d1})
	}
	for _, b := range all.ServiceDeployments {
		n := numbers([]shape.ServiceDeploymentBrief{b})[0]
		if got := *b.TargetServiceRevisionArn; got != revisionArn+n {
			t.Errorf("deployment %s: targetServiceRevisionArn %s, want %s", n, got, revisionArn+n)
		}
		if want := shape.ServiceDeploymentStatusStopped; n != d3 && (b.Status != want || *b.StatusReason != fsm.ReplacedReason) {
			t.Errorf("replaced deployment %s: %s %v, want %s %q", n, b.Status, b.StatusReason, want, fsm.ReplacedReason)
		}
	}

	first := h.list(`{"service":"web","maxResults":2}`)
	if got := numbers(first.ServiceDeployments); !slices.Equal(got, []string{d3, d2}) || first.NextToken == nil {
		t.Fatalf("first page %v (next %v), want %v and a token", got, first.NextToken, []string{d3, d2})
	}
	rest := h.list(fmt.Sprintf(`{"service":"web","maxResults":2,"nextToken":%q}`, *first.NextToken))
	if got := numbers(rest.ServiceDeployments); !slices.Equal(got, []string{d1}) || rest.NextToken != nil {
		t.Fatalf("second page %v (next %v), want %v and no token", got, rest.NextToken, []string{d1})
	}

	if got := numbers(h.list(`{"service":"web","status":["IN_PROGRESS"]}`).ServiceDeployments); !slices.Equal(got, []string{d3}) {
		t.Errorf("status IN_PROGRESS: %v, want %v", got, []string{d3})
	}
	at := func(i int) float64 { return float64(all.ServiceDeployments[i].CreatedAt.Time().UnixMilli()) / 1000 }
	if got := numbers(h.list(fmt.Sprintf(`{"service":"web","createdAt":{"after":%.3f}}`, at(1))).ServiceDeployments); !slices.Equal(got, []string{d3, d2}) {
		t.Errorf("created at or after %s's creation: %v, want %v", d2, got, []string{d3, d2})
	}
	if got := numbers(h.list(fmt.Sprintf(`{"service":"web","createdAt":{"before":%.3f}}`, at(2))).ServiceDeployments); !slices.Equal(got, []string{d1}) {
		t.Errorf("created at or before %s's creation: %v, want %v", d1, got, []string{d1})
	}

	var desc shape.DescribeServiceDeploymentsResponse
	h.call("DescribeServiceDeployments", fmt.Sprintf(`{"serviceDeploymentArns":[%q,%q]}`, deploymentArn+d3, deploymentArn+"1"), &desc)
	if len(desc.ServiceDeployments) != 1 || len(desc.Failures) != 1 || *desc.Failures[0].Reason != "MISSING" {
		t.Fatalf("DescribeServiceDeployments: %+v", desc)
	}
	d := desc.ServiceDeployments[0]
	var sources []string
	for _, s := range d.SourceServiceRevisions {
		sources = append(sources, *s.Arn)
	}
	if *d.TargetServiceRevision.Arn != revisionArn+d3 || !slices.Equal(sources, []string{revisionArn + d2, revisionArn + d1}) ||
		d.DeploymentConfiguration == nil || d.DeploymentCircuitBreaker == nil ||
		d.DeploymentCircuitBreaker.Status != shape.ServiceDeploymentRollbackMonitorsStatusDisabled || d.DeploymentCircuitBreaker.Threshold != 3 {
		t.Errorf("deployment %s: target %s, sources %v, configuration %+v, circuit breaker %+v", d3, *d.TargetServiceRevision.Arn,
			sources, d.DeploymentConfiguration, d.DeploymentCircuitBreaker)
	}

	var revs shape.DescribeServiceRevisionsResponse
	h.call("DescribeServiceRevisions", fmt.Sprintf(`{"serviceRevisionArns":[%q,%q,%q]}`, revisionArn+d1, revisionArn+"1", deploymentArn+d1), &revs)
	if len(revs.ServiceRevisions) != 1 || len(revs.Failures) != 2 {
		t.Fatalf("DescribeServiceRevisions: %+v", revs)
	}
	if r := revs.ServiceRevisions[0]; *r.ServiceRevisionArn != revisionArn+d1 || *r.TaskDefinition != "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1" ||
		r.LaunchType != shape.LaunchTypeEc2 || *r.ServiceArn != "arn:aws:ecs:us-east-1:123456789012:service/default/web" || r.CreatedAt == nil {
		t.Errorf("revision %s: %+v", d1, r)
	}
	h.fail("DescribeServiceRevisions", `{"serviceRevisionArns":[]}`, "InvalidParameterException")
	h.fail("DescribeServiceRevisions", `{"serviceRevisionArns":[`+strings.Repeat(`"x",`, 20)+`"x"]}`, "InvalidParameterException")

	// The service is deleted and created again: its history starts over,
	// and the earlier deployments stay describable by ARN.
	h.call("DeleteService", `{"service":"web","force":true}`, nil)
	d4 := h.deploy("CreateService", `{"serviceName":"web","taskDefinition":"app","desiredCount":0}`)
	if got := numbers(h.list(`{"service":"web"}`).ServiceDeployments); !slices.Equal(got, []string{d4}) {
		t.Errorf("the service created again lists %v, want its own deployment %s alone", got, d4)
	}
	h.call("DescribeServiceDeployments", fmt.Sprintf(`{"serviceDeploymentArns":[%q]}`, deploymentArn+d1), &desc)
	if len(desc.ServiceDeployments) != 1 {
		t.Errorf("a deployment of the deleted service: %+v", desc)
	}
}
