package lb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestHTTPSWithImportedCertificate: a certificate for web.example.com,
// signed by a CA of the test and imported into ACM, serves an HTTPS
// listener; a client that trusts only that CA reaches the backend through
// it with SNI web.example.com, the backend sees X-Forwarded-Proto https,
// and ACM lists the listener as using the certificate.
func TestHTTPSWithImportedCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	ca := newTestCA(t)
	certPEM, keyPEM := ca.leaf(t, "web.example.com", 2)
	imp, err := e.acm.ImportCertificate(e.ctx(), &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: ca.pem})
	if err != nil {
		t.Fatalf("import certificate: %v", err)
	}
	certARN := aws.ToString(imp.CertificateArn)

	b := startBackend(t, "b")
	lbARN := e.newLB("secure", elbtypes.LoadBalancerTypeEnumApplication)
	tg := e.targetGroup("secure", elbtypes.ProtocolEnumHttp, 80, elbtypes.TargetTypeEnumIp, 0)
	e.register(tg, b.port)
	l := e.listener(lbARN, elbtypes.ProtocolEnumHttps, 443, certARN, forward(tg))
	addr := e.waitActive(lbARN)
	e.waitInService(tg, 30*time.Second)

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.pem) {
		t.Fatal("the test CA does not parse")
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "web.example.com", MinVersion: tls.VersionTLS12}}}
	defer c.CloseIdleConnections()
	status, ec, err := get(t, c, "https://"+addr+"/hello", "web.example.com")
	if err != nil {
		t.Fatalf("GET through the HTTPS listener: %v", err)
	}
	if status != 200 || ec.Version != "b" || ec.Path != "/hello" {
		t.Fatalf("GET through the HTTPS listener: %d %+v", status, ec)
	}
	if got := ec.Header.Get("X-Forwarded-Proto"); got != "https" {
		t.Fatalf("the backend saw X-Forwarded-Proto %q, want https (headers %v)", got, ec.Header)
	}
	if got := ec.Header.Get("X-Forwarded-Port"); got != "443" {
		t.Errorf("the backend saw X-Forwarded-Port %q, want 443", got)
	}

	d, err := e.acm.DescribeCertificate(e.ctx(), &acm.DescribeCertificateInput{CertificateArn: aws.String(certARN)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Certificate.InUseBy, l) {
		t.Fatalf("DescribeCertificate InUseBy %v lacks the listener %s", d.Certificate.InUseBy, l)
	}
	if aws.ToString(d.Certificate.DomainName) != "web.example.com" {
		t.Errorf("certificate domain %q", aws.ToString(d.Certificate.DomainName))
	}

	// A certificate in use cannot be deleted.
	if _, err := e.acm.DeleteCertificate(e.ctx(), &acm.DeleteCertificateInput{CertificateArn: aws.String(certARN)}); !errors.As(err, new(*acmtypes.ResourceInUseException)) {
		t.Errorf("DeleteCertificate of a certificate in use: %v, want ResourceInUseException", err)
	}

	// Renewed (re-imported under its ARN), the listener serves the new
	// certificate without being touched, at once: within 5 s, half the
	// stream's heartbeat (the import itself must push a configuration).
	certPEM, keyPEM = ca.leaf(t, "web.example.com", 3)
	if _, err := e.acm.ImportCertificate(e.ctx(), &acm.ImportCertificateInput{CertificateArn: aws.String(certARN), Certificate: certPEM,
		PrivateKey: keyPEM, CertificateChain: ca.pem}); err != nil {
		t.Fatalf("re-import certificate: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		serial, err := servedSerial(addr+":443", roots, "web.example.com")
		if err != nil {
			t.Fatalf("handshake after the re-import: %v", err)
		}
		if serial == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5s after the re-import the listener still serves certificate %d", serial)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// servedSerial handshakes with addr (SNI name) and returns the serial
// number of the leaf it serves.
func servedSerial(addr string, roots *x509.CertPool, name string) (int64, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// testCA is a certificate authority of the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth e2e test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf makes a server certificate for name with serial number serial, and
// returns it and its key in PEM.
func (ca *testCA) leaf(t *testing.T, name string, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}
