package lb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
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
	caPEM, certPEM, keyPEM := testCertificate(t, "web.example.com")
	imp, err := e.acm.ImportCertificate(e.ctx(), &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: caPEM})
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
	if !roots.AppendCertsFromPEM(caPEM) {
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
}

// testCertificate makes a CA and a leaf for name signed by it, and returns
// them and the leaf's key in PEM.
func testCertificate(t *testing.T, name string) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth e2e test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}
