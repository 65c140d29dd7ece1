package driver

import (
	"bufio"
	"bytes"
	"strings"
)

// DNSSupport is implemented by drivers that cannot apply Spec.DNSServers
// and DNSSearch (or SandboxSpec's) in every network mode. A driver that
// does not implement it applies them in every mode it runs but "none".
type DNSSupport interface {
	// SupportsDNS reports whether containers (or sandboxes, for
	// NetworkAWSVPC) in network mode mode take DNS servers and search
	// domains.
	SupportsDNS(mode string) bool
}

// SupportsDNS reports whether d applies DNS settings in network mode mode.
func SupportsDNS(d any, mode string) bool {
	if s, ok := d.(DNSSupport); ok {
		return s.SupportsDNS(mode)
	}
	return mode != "none"
}

// ResolvConf is the resolv.conf of a container with servers and search
// domains, as Docker writes it: what is not given (no servers, no search
// domains) comes from host, the host's resolv.conf, as do its options.
func ResolvConf(servers, search []string, host []byte) []byte {
	var hostServers, hostSearch, options []string
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			hostServers = append(hostServers, f[1])
		case "search", "domain":
			hostSearch = f[1:]
		case "options":
			options = append(options, strings.Join(f[1:], " "))
		}
	}
	if len(servers) == 0 {
		servers = hostServers
	}
	if len(search) == 0 {
		search = hostSearch
	}
	var b bytes.Buffer
	b.WriteString("# written by berth\n")
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, o := range options {
		b.WriteString("options " + o + "\n")
	}
	return b.Bytes()
}
