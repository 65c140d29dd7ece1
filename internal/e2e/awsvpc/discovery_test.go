package awsvpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"berth.dev/berth/internal/taskendpoint"
)

// Two FARGATE services find each other through Cloud Map, on two hosts,
// on Docker and on the process runtime: the api service registers its
// tasks' addresses as A records of api.internal (a private DNS
// namespace); a web task, with nothing configured, fetches
// http://api.internal:8080/ through its host's DNS node at the task
// endpoint; the answers, from that node and from the server's own DNS
// server, are exactly the api tasks' addresses and follow the service as
// it scales out and in; DiscoverInstances finds them too.
func TestAwsvpc_ServiceDiscovery(t *testing.T) {
	t.Run("docker", func(t *testing.T) { testDiscovery(t, "docker") })
	t.Run("process", func(t *testing.T) { testDiscovery(t, "process") })
}

func testDiscovery(t *testing.T, rt string) {
	c := newCluster(t, rt)
	image := ""
	if rt == "docker" {
		_, image = dockerSetup(t, c)
	}
	c.agent(2)
	c.agent(3)
	c.instances(2)
	ctx := context.Background()
	cm := c.cloudMap()

	// The namespace (asynchronous, as Terraform waits for it) and the
	// Cloud Map service with A records and custom health.
	op, err := cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("internal"), Vpc: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	var nsID string
	c.eventually(30*time.Second, "the namespace operation succeeds", func() error {
		o, err := cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
		if err != nil {
			return err
		}
		if o.Operation.Status != sdtypes.OperationStatusSuccess {
			return fmt.Errorf("operation %s", o.Operation.Status)
		}
		nsID = o.Operation.Targets["NAMESPACE"]
		return nil
	})
	svc, err := cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID),
		DnsConfig: &sdtypes.DnsConfig{RoutingPolicy: sdtypes.RoutingPolicyMultivalue,
			DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: aws.Int64(5)}}},
		HealthCheckCustomConfig: &sdtypes.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}

	// The api service, registered in it: A records need no port.
	api := c.registerApp(image, "api", "api-1")
	if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("api"), TaskDefinition: aws.String(api), DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: vpc,
		ServiceRegistries:    []types.ServiceRegistry{{RegistryArn: svc.Service.Arn}},
	}); err != nil {
		t.Fatal(err)
	}
	apiIPs := taskIPs(c.serviceTasks("api", 2))
	// Both hosts' DNS nodes and the server's DNS answer exactly the tasks.
	c.waitAnswers(c.agents[2].ns, taskendpoint.IP+":53", "api.internal.", apiIPs)
	c.waitAnswers(c.agents[3].ns, taskendpoint.IP+":53", "api.internal.", apiIPs)
	c.waitAnswers(c.srvNS, "127.0.0.1:8053", "api.internal.", apiIPs)

	// A web task calls the api by its name, with no DNS configured.
	web := c.registerApp(image, "web", "web-1")
	if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(web), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: vpc,
	}); err != nil {
		t.Fatal(err)
	}
	webIP := taskIPs(c.serviceTasks("web", 1))[0]
	call := "http://" + webIP + ":8080/fetch?url=" + url.QueryEscape("http://api.internal:8080/")
	c.eventually(30*time.Second, "the web task calls http://api.internal:8080/", func() error {
		body, err := getURL(c.agents[2].ns, call)
		if err != nil {
			return err
		}
		if !strings.Contains(body, `"VERSION":"api-1"`) {
			return fmt.Errorf("answered %s", body)
		}
		return nil
	})

	// The answers follow the service as it scales out and in.
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("api"), DesiredCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	apiIPs = taskIPs(c.serviceTasks("api", 3))
	c.waitAnswers(c.agents[2].ns, taskendpoint.IP+":53", "api.internal.", apiIPs)
	c.waitAnswers(c.srvNS, "127.0.0.1:8053", "api.internal.", apiIPs)
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("api"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	apiIPs = taskIPs(c.serviceTasks("api", 1))
	c.waitAnswers(c.agents[3].ns, taskendpoint.IP+":53", "api.internal.", apiIPs)

	// DiscoverInstances (sent to the data- host) finds the same.
	d, err := cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("internal"), ServiceName: aws.String("api"),
		QueryParameters: map[string]string{"ECS_SERVICE_NAME": "api"}})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, in := range d.Instances {
		found = append(found, in.Attributes["AWS_INSTANCE_IPV4"])
	}
	slices.Sort(found)
	if !slices.Equal(found, apiIPs) {
		t.Fatalf("DiscoverInstances found %v, want %v", found, apiIPs)
	}
}

// cloudMap is a Cloud Map client of the cluster's server. The SDK sends
// DiscoverInstances to "data-" + the endpoint's host: every host name is
// dialled at the server.
func (c *cluster) cloudMap() *sd.Client {
	dial := dialer(c.srvNS)
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, serverAddr+":4566")
		}
	})
	return sd.New(sd.Options{
		Region: region, BaseEndpoint: aws.String("http://berth.localhost:4566"), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
}

// getURL fetches u from inside namespace ns.
func getURL(ns, u string) (string, error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialer(ns), DisableKeepAlives: true}}
	resp, err := hc.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// waitAnswers waits until the DNS server at server, queried from inside
// namespace ns, answers an A query of name with exactly want (sorted).
func (c *cluster) waitAnswers(ns, server, name string, want []string) {
	c.t.Helper()
	c.eventually(30*time.Second, fmt.Sprintf("%s answers %s with %v", server, name, want), func() error {
		got, err := queryA(ns, server, name)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("answered %v", got)
		}
		return nil
	})
}

// queryA sends one A query over UDP from inside namespace ns and returns
// the answer's addresses, sorted.
func queryA(ns, server, name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := dialer(ns)(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	cl := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := cl.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn})
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return nil, fmt.Errorf("rcode %s, authoritative %v", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out, nil
}
