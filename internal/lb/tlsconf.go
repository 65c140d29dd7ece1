package lb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/internal/lbconfig"
)

// DefaultSSLPolicy is ELB's default security policy.
const DefaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// TLSVersions maps an ELB security policy name to the TLS versions it
// allows; unknown names get the default policy's (TLS 1.0 to 1.2).
func TLSVersions(policy string) (minV, maxV uint16) {
	p := strings.TrimPrefix(policy, "ELBSecurityPolicy-")
	switch {
	case strings.HasPrefix(p, "TLS13-1-3"):
		return tls.VersionTLS13, tls.VersionTLS13
	case strings.HasPrefix(p, "TLS13-1-2"):
		return tls.VersionTLS12, tls.VersionTLS13
	case strings.HasPrefix(p, "TLS13-1-1"):
		return tls.VersionTLS11, tls.VersionTLS13
	case strings.HasPrefix(p, "TLS13-1-0"):
		return tls.VersionTLS10, tls.VersionTLS13
	case strings.HasPrefix(p, "TLS-1-2"), strings.HasPrefix(p, "FS-1-2"):
		return tls.VersionTLS12, tls.VersionTLS12
	case strings.HasPrefix(p, "TLS-1-1"), strings.HasPrefix(p, "FS-1-1"):
		return tls.VersionTLS11, tls.VersionTLS12
	default: // 2016-08, TLS-1-0-2015-04, FS-2018-06, 2015-05 and unknown names
		return tls.VersionTLS10, tls.VersionTLS12
	}
}

// buildTLS returns the server TLS configuration of a listener: its
// certificates (the first is the default, the others are chosen by SNI),
// the versions of its policy and the ALPN protocols offered.
func buildTLS(ln *lbconfig.Listener, certs map[string]*lbconfig.Certificate, alpn []string) (*tls.Config, error) {
	if len(ln.Certificates) == 0 {
		return nil, errors.New("no certificate")
	}
	conf := &tls.Config{NextProtos: alpn}
	conf.MinVersion, conf.MaxVersion = TLSVersions(ln.SSLPolicy)
	for _, arn := range ln.Certificates {
		c, ok := certs[arn]
		if !ok {
			return nil, fmt.Errorf("certificate %s not in the configuration", arn)
		}
		kp, err := tls.X509KeyPair([]byte(c.Chain), []byte(c.Key))
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", arn, err)
		}
		conf.Certificates = append(conf.Certificates, kp)
	}
	return conf, nil
}

// nlbALPN maps an NLB TLS listener's ALPN policy to the protocols offered.
func nlbALPN(policy string) []string {
	switch policy {
	case "HTTP1Only":
		return []string{"http/1.1"}
	case "HTTP2Only":
		return []string{"h2"}
	case "HTTP2Optional":
		return []string{"http/1.1", "h2"}
	case "HTTP2Preferred":
		return []string{"h2", "http/1.1"}
	}
	return nil
}
