package sd_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/sd"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func p[T any](v T) *T { return &v }

// counter is a deterministic random source.
type counter struct{ n byte }

func (c *counter) Read(b []byte) (int, error) {
	for i := range b {
		c.n += 7
		b[i] = c.n
	}
	return len(b), nil
}

func TestIDs(t *testing.T) {
	r := &counter{}
	ns, _ := sd.NewNamespaceID(r)
	srv, _ := sd.NewServiceID(r)
	op, _ := sd.NewOperationID(r)
	if !regexp.MustCompile(`^ns-[a-z0-9]{16}$`).MatchString(ns) || !regexp.MustCompile(`^srv-[a-z0-9]{16}$`).MatchString(srv) ||
		!regexp.MustCompile(`^[a-z0-9]{32}-[a-z0-9]{8}$`).MatchString(op) {
		t.Fatalf("%s %s %s", ns, srv, op)
	}
	n := sd.Namer{Region: "us-east-1", Account: "123456789012"}
	if got := n.Namespace(ns); got != "arn:aws:servicediscovery:us-east-1:123456789012:namespace/"+ns {
		t.Fatal(got)
	}
	if got := n.Service(srv); got != "arn:aws:servicediscovery:us-east-1:123456789012:service/"+srv {
		t.Fatal(got)
	}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	e, _ := apierr.As(err)
	return e.Code + ": " + e.Message
}

func TestValidation(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{sd.ValidateNamespaceName("example.local", sd.NamespaceDNSPrivate), ""},
		{sd.ValidateNamespaceName("arn:x", sd.NamespaceHTTP), "InvalidInput: 1 validation error detected: Value 'arn:x' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!arn:)[!-~]{1,1024}$"},
		{sd.ValidateNamespaceName("", sd.NamespaceHTTP), "InvalidInput: 1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length between 1 and 1024"},
		{sd.ValidateNamespaceName("a..b", sd.NamespaceDNSPrivate), "InvalidInput: Namespace name a..b is not a valid domain name."},
		{sd.ValidateServiceName("_http._tcp"), ""},
		{sd.ValidateServiceName("."), ""},
		{sd.ValidateServiceName("web-"), "InvalidInput: 1 validation error detected: Value 'web-' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\\.$)"},
		{sd.ValidateInstanceID("16becc26-8558-4af1-9fbd-f81be062a266"), ""},
		{sd.ValidateInstanceID("a b"), "InvalidInput: 1 validation error detected: Value 'a b' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z_/:.@-]+$"},
		{sd.ValidateInstanceID(""), "InvalidInput: 1 validation error detected: Value null at 'instanceId' failed to satisfy constraint: Member must not be null"},
		{sd.ValidateTTL(-1, "x"), "InvalidInput: 1 validation error detected: Value '-1' at 'x' failed to satisfy constraint: Member must have value between 0 and 2147483647"},
		{sd.ValidateDNSConfig("", []sd.DNSRecord{{Type: "A", TTL: 1}, {Type: "SRV", TTL: 1}}), ""},
		{sd.ValidateDNSConfig("", []sd.DNSRecord{{Type: "A", TTL: 1}, {Type: "A", TTL: 1}}), "InvalidInput: DnsRecords can contain only one record of type A."},
		{sd.ValidateDNSConfig("WEIGHTED", []sd.DNSRecord{{Type: "CNAME", TTL: 1}, {Type: "A", TTL: 1}}), "InvalidInput: A CNAME record cannot be combined with records of another type."},
		{sd.ValidateDNSConfig("", nil), "InvalidInput: DnsConfig must contain at least one DnsRecord."},
		{sd.ValidateAttributes(map[string]string{"AWS_INIT_HEALTH_STATUS": "MAYBE"}), "InvalidInput: AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY."},
		{sd.ValidateAttributes(map[string]string{"k": strings.Repeat("v", 1025)}), "InvalidInput: Attribute value for key k is invalid: values are up to 1024 printable characters."},
		{sd.ValidateInstanceForService([]sd.DNSRecord{{Type: "SRV"}}, map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}), "InvalidInput: The service has an SRV record: the instance needs the attribute AWS_INSTANCE_PORT."},
	}
	for i, c := range cases {
		if got := code(c.err); got != c.want {
			t.Errorf("case %d: got %q\nwant %q", i, got, c.want)
		}
	}
}

func ids(cs []sd.Candidate) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.ID)
	}
	return strings.Join(s, ",")
}

func TestDiscover(t *testing.T) {
	in := []sd.Candidate{
		{ID: "a", Attributes: map[string]string{"v": "1", "az": "x"}, Health: sd.Healthy},
		{ID: "b", Attributes: map[string]string{"v": "1", "az": "y"}, Health: sd.Unhealthy},
		{ID: "c", Attributes: map[string]string{"v": "2", "az": "y"}, Health: sd.Healthy},
	}
	cases := []struct {
		query, opt map[string]string
		filter     string
		check      bool
		want       string
	}{
		{nil, nil, "", true, "a,c"},
		{nil, nil, sd.FilterAll, true, "a,b,c"},
		{nil, nil, sd.FilterUnhealthy, true, "b"},
		{map[string]string{"v": "1"}, nil, sd.FilterAll, true, "a,b"},
		{map[string]string{"v": "1"}, map[string]string{"az": "y"}, sd.FilterAll, true, "b"},
		{map[string]string{"v": "1"}, map[string]string{"az": "z"}, sd.FilterAll, true, "a,b"},
		{map[string]string{"v": "1", "az": "y"}, nil, sd.FilterHealthyOrElseAll, true, "b"},
		{map[string]string{"v": "3"}, nil, sd.FilterAll, true, ""},
		{nil, nil, sd.FilterUnhealthy, false, "a,b,c"},
	}
	for i, c := range cases {
		if got := ids(sd.Discover(in, c.query, c.opt, c.filter, c.check)); got != c.want {
			t.Errorf("case %d: %s, want %s", i, got, c.want)
		}
	}
}

// Property: Discover never returns an instance that fails QueryParameters.
func TestDiscoverProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []string{"a", "b", "c"}
	for n := 0; n < 2000; n++ {
		var in []sd.Candidate
		for i := 0; i < r.IntN(8); i++ {
			in = append(in, sd.Candidate{ID: string(rune('a' + i)), Health: []string{sd.Healthy, sd.Unhealthy}[r.IntN(2)],
				Attributes: map[string]string{"x": vals[r.IntN(3)], "y": vals[r.IntN(3)]}})
		}
		q := map[string]string{}
		if r.IntN(2) == 0 {
			q["x"] = vals[r.IntN(3)]
		}
		opt := map[string]string{"y": vals[r.IntN(3)]}
		filter := []string{"", sd.FilterAll, sd.FilterHealthy, sd.FilterUnhealthy, sd.FilterHealthyOrElseAll}[r.IntN(5)]
		for _, c := range sd.Discover(in, q, opt, filter, true) {
			for k, v := range q {
				if c.Attributes[k] != v {
					t.Fatalf("returned %+v for query %v", c, q)
				}
			}
			if (filter == "" || filter == sd.FilterHealthy) && c.Health != sd.Healthy {
				t.Fatalf("returned unhealthy %+v for %s", c, filter)
			}
		}
	}
}

func TestShuffle(t *testing.T) {
	s := []int{1, 2, 3, 4, 5}
	if err := sd.Shuffle(&counter{}, s); err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, v := range s {
		sum += v
	}
	if sum != 15 || len(s) != 5 {
		t.Fatal(s)
	}
}

func goldenNamespaces() ([]sd.RenderNamespace, []sd.RenderHost) {
	return []sd.RenderNamespace{
			{ID: "ns-1", Name: "Example.Local", Type: sd.NamespaceDNSPrivate, SOATTL: p(int64(30)), Services: []sd.RenderService{
				{ID: "srv-1", Name: "web", RoutingPolicy: sd.RoutingMultivalue, CustomCheck: true,
					Records: []sd.DNSRecord{{Type: "A", TTL: 10}, {Type: "AAAA", TTL: 20}},
					Instances: []sd.RenderInstance{
						{ID: "t2", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"}, CustomHealth: sd.Unhealthy},
						{ID: "t1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_IPV6": "fd00::1"}, CustomHealth: sd.Healthy},
					}},
				{ID: "srv-2", Name: "_api._tcp", RoutingPolicy: sd.RoutingWeighted,
					Records: []sd.DNSRecord{{Type: "SRV", TTL: 60}},
					Instances: []sd.RenderInstance{
						{ID: "9a8b7c6d5e4f30211a2b3c4d5e6f7081", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.1.1", "AWS_INSTANCE_PORT": "32768"}},
						{ID: "arn:weird/id", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.1.2", "AWS_INSTANCE_PORT": "32769"}},
					}},
				{ID: "srv-3", Name: "empty", Records: []sd.DNSRecord{{Type: "A", TTL: 5}}},
			}},
			{ID: "ns-2", Name: "sub.example.local", Type: sd.NamespaceDNSPrivate}, // nests: skipped
			{ID: "ns-3", Name: "apps", Type: sd.NamespaceHTTP},
			{ID: "ns-4", Name: "other.internal.", Type: sd.NamespaceDNSPrivate},
		}, []sd.RenderHost{
			{Name: "Web-123.elb.berth.internal", Address: "127.0.1.1"},
			{Name: "lb.other.internal", Address: "127.0.1.2"},
			{Name: "bad", Address: "not-an-ip"},
		}
}

func TestRenderGolden(t *testing.T) {
	nss, hosts := goldenNamespaces()
	cfg := sd.Render(42, nss, hosts)
	got, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "render.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("render differs from %s:\n%s", path, got)
	}
	checkInvariants(t, cfg)
}

func checkInvariants(t *testing.T, cfg *dnsconfig.Config) {
	t.Helper()
	for i, z := range cfg.Zones {
		if z.Name != strings.ToLower(z.Name) || !strings.HasSuffix(z.Name, ".") {
			t.Fatalf("zone %q", z.Name)
		}
		for j, o := range cfg.Zones {
			if i != j && (strings.HasSuffix(z.Name, "."+o.Name) || z.Name == o.Name) {
				t.Fatalf("zones %s and %s nest", z.Name, o.Name)
			}
		}
		seen := map[[2]string]bool{}
		for _, s := range z.RRSets {
			if s.Name != z.Name && !strings.HasSuffix(s.Name, "."+z.Name) {
				t.Fatalf("%s outside zone %s", s.Name, z.Name)
			}
			if s.Name != strings.ToLower(s.Name) || !strings.HasSuffix(s.Name, ".") || len(s.Records) == 0 {
				t.Fatalf("rrset %+v", s)
			}
			k := [2]string{s.Name, s.Type}
			if seen[k] {
				t.Fatalf("two rrsets %v", k)
			}
			seen[k] = true
		}
	}
	for _, h := range cfg.Hosts {
		for _, z := range cfg.Zones {
			if strings.HasSuffix(h.Name, "."+z.Name) {
				t.Fatalf("host %s in zone %s", h.Name, z.Name)
			}
		}
	}
}

// Properties: rendering is deterministic whatever the input order, and
// every record's name lies in its zone.
func TestRenderProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 300; n++ {
		var nss []sd.RenderNamespace
		for i := 0; i < r.IntN(4)+1; i++ {
			ns := sd.RenderNamespace{ID: "ns-" + string(rune('a'+i)), Name: []string{"a.local", "b.local", "x.a.local", "A.Local", "c"}[r.IntN(5)], Type: sd.NamespaceDNSPrivate}
			for j := 0; j < r.IntN(3); j++ {
				svc := sd.RenderService{Name: []string{"web", "api", "x", "_s._tcp", "bad name"}[r.IntN(5)], CustomCheck: r.IntN(2) == 0,
					Records: []sd.DNSRecord{{Type: "A", TTL: 1}, {Type: "SRV", TTL: 2}}}
				svc.ID = "srv-" + string(rune('a'+j))
				for k := 0; k < r.IntN(4); k++ {
					svc.Instances = append(svc.Instances, sd.RenderInstance{ID: []string{"i1", "i2", "a/b", "x"}[r.IntN(4)],
						Attributes:   map[string]string{"AWS_INSTANCE_IPV4": []string{"10.0.0.1", "10.0.0.2", "bad"}[r.IntN(3)], "AWS_INSTANCE_PORT": "80"},
						CustomHealth: []string{"", sd.Healthy, sd.Unhealthy}[r.IntN(3)]})
				}
				ns.Services = append(ns.Services, svc)
			}
			nss = append(nss, ns)
		}
		hosts := []sd.RenderHost{{Name: "lb.a.local", Address: "127.0.0.1"}, {Name: "lb.elb", Address: "127.0.0.2"}}
		a := sd.Render(7, nss, hosts)
		rev := append([]sd.RenderNamespace(nil), nss...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		b := sd.Render(7, rev, hosts)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("rendering the same input twice differs")
		}
		checkInvariants(t, a)
	}
}
