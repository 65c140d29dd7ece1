package sdapi

import (
	"reflect"

	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/sd"
	"berth.dev/berth/internal/state"
	"berth.dev/berth/internal/taskendpoint"
)

// RenderDNS renders the DNS nodes' configuration from one snapshot: the
// private DNS namespaces as zones (package sd's Render) and, in Hosts, one
// A RRSet per ELBv2 load balancer (its DNSName, lower-cased FQDN, to its
// Address; TTL 60, RoutingAll, healthy), and TaskEndpointDataHost to the
// task endpoint. Revision is the snapshot's index.
func RenderDNS(s *state.Snapshot) *dnsconfig.Config {
	var nss []sd.RenderNamespace
	s.SDNamespaces("", func(n *state.SDNamespace) bool {
		if n.Type == sd.NamespaceHTTP {
			return true
		}
		rn := sd.RenderNamespace{ID: n.ID, Name: n.Name, Type: n.Type, SOATTL: n.SOATTL}
		s.SDNamespaceServices(n.ID, func(svc *state.SDService) bool {
			if svc.DNS == nil {
				return true
			}
			rs := sd.RenderService{ID: svc.ID, Name: svc.Name, RoutingPolicy: svc.DNS.RoutingPolicy, CustomCheck: svc.CustomHealth != nil}
			for _, r := range svc.DNS.Records {
				rs.Records = append(rs.Records, sd.DNSRecord{Type: r.Type, TTL: r.TTL})
			}
			s.SDInstances(svc.ID, "", func(i *state.SDInstance) bool {
				rs.Instances = append(rs.Instances, sd.RenderInstance{ID: i.ID, Attributes: i.Attributes, CustomHealth: i.CustomHealth})
				return true
			})
			rn.Services = append(rn.Services, rs)
			return true
		})
		nss = append(nss, rn)
		return true
	})
	hosts := []sd.RenderHost{{Name: TaskEndpointDataHost, Address: taskendpoint.IP}}
	s.LoadBalancers(func(lb *state.LoadBalancer) bool {
		if lb.DNSName != "" && lb.Address != "" {
			hosts = append(hosts, sd.RenderHost{Name: lb.DNSName, Address: lb.Address})
		}
		return true
	})
	return sd.Render(s.Index(), nss, hosts)
}

// TaskEndpointDataHost is the host the AWS SDKs call for Cloud Map's
// DiscoverInstances (the "data-" host prefix of its endpoint) when their
// endpoint is the task endpoint (AWS_ENDPOINT_URL=http://169.254.170.2,
// which agents give tasks): answered with the task endpoint's address, it
// makes DiscoverInstances from a task reach berth like every other call.
const TaskEndpointDataHost = "data-" + taskendpoint.IP

// Source is a dnsconfig.Source over the state store: Current renders the
// newest snapshot and returns a channel closed when a Cloud Map table or a
// load balancer changes, or the state is replaced by a restore.
type Source struct {
	State Reader
}

// NewSource returns a Source over the state.
func NewSource(st Reader) *Source { return &Source{State: st} }

var _ dnsconfig.Source = (*Source)(nil)

// Current implements dnsconfig.Source.
func (s *Source) Current() (*dnsconfig.Config, <-chan struct{}) {
	snap := s.State.Snapshot()
	cfg := RenderDNS(snap)
	chans := append([]<-chan struct{}{snap.WatchSD(), snap.Abandoned()}, snap.WatchELB()...)
	cases := make([]reflect.SelectCase, 0, len(chans))
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	changed := make(chan struct{})
	go func() {
		reflect.Select(cases)
		close(changed)
	}()
	return cfg, changed
}
