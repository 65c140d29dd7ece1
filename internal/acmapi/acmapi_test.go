package acmapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/acmapi"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/seal"
	"berth.dev/berth/internal/sigv4"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	keyID   = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var namer = arn.Namer{Partition: "aws", Region: region, Account: account}

// sigAuth verifies SigV4 for the signing name the edge asks for.
type sigAuth struct{}

func (sigAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		e, _ := apierr.As(err)
		return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
	}
	return namer.Root(), nil
}

// proposer applies commands straight to a machine, as a one-node raft
// would after committing them, and keeps the entries it logged.
type proposer struct {
	mu      sync.Mutex
	m       *fsm.Machine
	entries [][]byte
}

func (p *proposer) Apply(_ context.Context, c wire.Command) (any, error) {
	entry, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, entry)
	r := p.m.Apply(uint64(len(p.entries)), entry)
	return r.Value, r.Err
}

// users is a fake InUse.
type users struct {
	mu sync.Mutex
	by map[string][]string
}

func (u *users) InUse(cert string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.by[cert]
}

func (u *users) set(cert string, listeners ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.by[cert] = listeners
}

type env struct {
	client *acm.Client
	api    *acmapi.API
	m      *fsm.Machine
	p      *proposer
	users  *users
	now    time.Time
	mu     sync.Mutex
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{m: m, p: &proposer{m: m}, users: &users{by: map[string][]string{}}, now: time.Now()}
	e.api = acmapi.New(acmapi.Config{Region: region, Account: account, State: m, Proposer: e.p, Sealer: sealer,
		Log: slog.New(slog.DiscardHandler), Now: e.clock})
	e.api.SetInUse(e.users)
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{e.api.Service()}, Auth: sigAuth{}})
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	e.client = acm.New(acm.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1})
	return e
}

// pair is a generated certificate and its key.
type pair struct {
	cert    *x509.Certificate
	certPEM []byte
	keyPEM  []byte
	key     crypto.Signer
}

type certOpts struct {
	cn        string
	sans      []string
	notBefore time.Time
	notAfter  time.Time
	key       crypto.Signer
	keyForm   string // pkcs1, pkcs8, sec1
	issuer    *pair
	ca        bool
}

func rsaKey(t *testing.T, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serialN int64 = 0x1234

func makeCert(t *testing.T, o certOpts) *pair {
	t.Helper()
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	serialN++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serialN),
		Subject:      pkix.Name{Country: []string{"US"}, Organization: []string{"Berth Test"}, CommonName: o.cn},
		DNSNames:     o.sans,
		NotBefore:    o.notBefore, NotAfter: o.notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if o.ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		tmpl.ExtKeyUsage = nil
	}
	parent, signer := tmpl, o.key
	if o.issuer != nil {
		parent, signer = o.issuer.cert, o.issuer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, o.key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	var block *pem.Block
	switch o.keyForm {
	case "pkcs8":
		b, _ := x509.MarshalPKCS8PrivateKey(o.key)
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: b}
	case "sec1":
		b, _ := x509.MarshalECPrivateKey(o.key.(*ecdsa.PrivateKey))
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: b}
	default:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(o.key.(*rsa.PrivateKey))}
	}
	return &pair{cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: pem.EncodeToMemory(block), key: o.key}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if err == nil {
		return "<nil>"
	}
	return "not an API error: " + err.Error()
}

// isType reports whether err carries the SDK's typed error of want's type.
func isType(err error, want any) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && reflect.TypeOf(ae) == reflect.TypeOf(want)
}

func mustImport(t *testing.T, e *env, in *acm.ImportCertificateInput) string {
	t.Helper()
	out, err := e.client.ImportCertificate(context.Background(), in)
	if err != nil {
		t.Fatalf("ImportCertificate: %v", err)
	}
	return aws.ToString(out.CertificateArn)
}

func TestImportDescribeGetRSA(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ca := makeCert(t, certOpts{cn: "Berth Test CA", key: rsaKey(t, 2048), ca: true})
	leaf := makeCert(t, certOpts{cn: "www.example.com", sans: []string{"www.example.com", "example.com"}, key: rsaKey(t, 2048), issuer: ca})
	start := time.Now()
	a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: leaf.certPEM, PrivateKey: leaf.keyPEM, CertificateChain: ca.certPEM,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if !strings.HasPrefix(a, "arn:aws:acm:us-east-1:123456789012:certificate/") || len(a) != len("arn:aws:acm:us-east-1:123456789012:certificate/")+36 {
		t.Fatalf("ARN %s", a)
	}

	d, err := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Certificate
	checks := map[string][2]string{
		"DomainName":         {aws.ToString(c.DomainName), "www.example.com"},
		"SANs":               {strings.Join(c.SubjectAlternativeNames, ","), "www.example.com,example.com"},
		"Subject":            {aws.ToString(c.Subject), "C=US,O=Berth Test,CN=www.example.com"},
		"Issuer":             {aws.ToString(c.Issuer), "C=US,O=Berth Test,CN=Berth Test CA"},
		"Serial":             {aws.ToString(c.Serial), fmt.Sprintf("%02x:%02x", leaf.cert.SerialNumber.Bytes()[0], leaf.cert.SerialNumber.Bytes()[1])},
		"KeyAlgorithm":       {string(c.KeyAlgorithm), "RSA_2048"},
		"SignatureAlgorithm": {aws.ToString(c.SignatureAlgorithm), "SHA256WITHRSA"},
		"Type":               {string(c.Type), "IMPORTED"},
		"Status":             {string(c.Status), "ISSUED"},
		"RenewalEligibility": {string(c.RenewalEligibility), "INELIGIBLE"},
		"InUseBy":            {strings.Join(c.InUseBy, ","), ""},
		"KeyUsages":          {fmt.Sprint(c.KeyUsages[0].Name, c.KeyUsages[1].Name), "DIGITAL_SIGNATUREKEY_ENCIPHERMENT"},
		"ExtendedKeyUsages":  {fmt.Sprint(c.ExtendedKeyUsages[0].Name, " ", aws.ToString(c.ExtendedKeyUsages[0].OID)), "TLS_WEB_SERVER_AUTHENTICATION 1.3.6.1.5.5.7.3.1"},
		"NotAfter":           {c.NotAfter.UTC().Format(time.RFC3339), leaf.cert.NotAfter.UTC().Format(time.RFC3339)},
		"NotBefore":          {c.NotBefore.UTC().Format(time.RFC3339), leaf.cert.NotBefore.UTC().Format(time.RFC3339)},
	}
	for name, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", name, v[0], v[1])
		}
	}
	if c.ImportedAt == nil || c.CreatedAt == nil || c.ImportedAt.Before(start.Add(-time.Second)) {
		t.Errorf("ImportedAt %v CreatedAt %v", c.ImportedAt, c.CreatedAt)
	}

	g, err := e.client.GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: &a})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.Certificate) != string(leaf.certPEM) || aws.ToString(g.CertificateChain) != string(ca.certPEM) {
		t.Fatalf("GetCertificate = %q / %q", aws.ToString(g.Certificate), aws.ToString(g.CertificateChain))
	}

	// The load balancers' lookup: the chain (leaf first) and the opened key,
	// which a TLS server accepts.
	chain, key, ok := e.api.Certificate(a)
	if !ok {
		t.Fatal("Certificate: not found")
	}
	if chain != string(leaf.certPEM)+string(ca.certPEM) {
		t.Fatalf("chain = %q", chain)
	}
	pairTLS, err := tls.X509KeyPair([]byte(chain), []byte(key))
	if err != nil {
		t.Fatalf("the opened key does not make a TLS pair: %v", err)
	}
	if len(pairTLS.Certificate) != 2 {
		t.Fatalf("TLS chain has %d certificates", len(pairTLS.Certificate))
	}
	if _, _, ok := e.api.Certificate("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"); ok {
		t.Fatal("Certificate of an unknown ARN: ok")
	}

	// The log holds the sealed key only.
	keyBody := pemBody(leaf.keyPEM)
	for i, entry := range e.p.entries {
		if bytes.Contains(entry, []byte(keyBody[:40])) || bytes.Contains(entry, []byte(pemBody([]byte(key))[:40])) {
			t.Fatalf("log entry %d holds the private key", i)
		}
	}
	var dump bytes.Buffer
	if err := fsm.Persist(e.m.Snapshot(), &dump); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dump.Bytes(), []byte(keyBody[:40])) || bytes.Contains(dump.Bytes(), []byte(pemBody([]byte(key))[:40])) {
		t.Fatal("the snapshot holds the private key")
	}
}

// pemBody is the base64 body of a PEM block, on one line.
func pemBody(p []byte) string {
	var b strings.Builder
	for _, l := range strings.Split(string(p), "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func TestImportECDSA(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		curve elliptic.Curve
		form  string
		alg   string
		sig   string
	}{
		{elliptic.P256(), "pkcs8", "EC_prime256v1", "SHA256WITHECDSA"},
		{elliptic.P256(), "sec1", "EC_prime256v1", "SHA256WITHECDSA"},
		{elliptic.P384(), "sec1", "EC_secp384r1", "SHA384WITHECDSA"},
	} {
		p := makeCert(t, certOpts{cn: "ec.example.com", key: ecKey(t, tc.curve), keyForm: tc.form})
		a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM})
		d, err := e.client.DescribeCertificate(context.Background(), &acm.DescribeCertificateInput{CertificateArn: &a})
		if err != nil {
			t.Fatal(err)
		}
		if string(d.Certificate.KeyAlgorithm) != tc.alg || aws.ToString(d.Certificate.SignatureAlgorithm) != tc.sig {
			t.Errorf("%s %s: %s %s", tc.alg, tc.form, d.Certificate.KeyAlgorithm, aws.ToString(d.Certificate.SignatureAlgorithm))
		}
		if strings.Join(d.Certificate.SubjectAlternativeNames, ",") != "ec.example.com" {
			t.Errorf("SANs of a certificate without any: %v", d.Certificate.SubjectAlternativeNames)
		}
	}
	// PKCS#8 RSA too.
	p := makeCert(t, certOpts{cn: "rsa8.example.com", key: rsaKey(t, 2048), keyForm: "pkcs8"})
	mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM})
}

func TestImportErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	good := makeCert(t, certOpts{cn: "a.example.com", key: rsaKey(t, 2048)})
	other := makeCert(t, certOpts{cn: "b.example.com", key: rsaKey(t, 2048)})
	ec := makeCert(t, certOpts{cn: "c.example.com", key: ecKey(t, elliptic.P256()), keyForm: "pkcs8"})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")})
	for _, tc := range []struct {
		name  string
		in    *acm.ImportCertificateInput
		want  string
		typed any
	}{
		{"mismatched key", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: other.keyPEM},
			"ValidationException: The private key does not match the public key in the certificate.", &types.ValidationException{}},
		{"mismatched key type", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: ec.keyPEM},
			"ValidationException: The private key does not match the public key in the certificate.", &types.ValidationException{}},
		{"two certificates", &acm.ImportCertificateInput{Certificate: append(append([]byte{}, good.certPEM...), other.certPEM...), PrivateKey: good.keyPEM},
			"ValidationException: The certificate field contains more than one certificate. You can specify only one certificate in this field.", &types.ValidationException{}},
		{"not PEM", &acm.ImportCertificateInput{Certificate: []byte("hello"), PrivateKey: good.keyPEM},
			"ValidationException: Unable to parse certificate. Please ensure the certificate is in PEM format.", &types.ValidationException{}},
		{"key not PEM", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: []byte("hello")},
			"ValidationException: Unable to parse private key. Please ensure the private key is in PEM format.", &types.ValidationException{}},
		{"encrypted key", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: encrypted},
			"ValidationException: The private key is encrypted. Import an unencrypted private key.", &types.ValidationException{}},
		{"bad chain", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: good.keyPEM, CertificateChain: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")},
			"ValidationException: Could not validate the certificate with the certificate chain.", &types.ValidationException{}},
		{"reimport unknown", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: good.keyPEM,
			CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000")},
			"ResourceNotFoundException: Could not find certificate with arn arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000", &types.ResourceNotFoundException{}},
		{"reimport bad ARN", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: good.keyPEM, CertificateArn: aws.String("not-an-arn-at-all-really")},
			"InvalidArnException: String 'not-an-arn-at-all-really' is not a valid ARN.", &types.InvalidArnException{}},
		{"aws: tag", &acm.ImportCertificateInput{Certificate: good.certPEM, PrivateKey: good.keyPEM, Tags: []types.Tag{{Key: aws.String("aws:x")}}},
			"InvalidTagException: Tags beginning with aws: are reserved for AWS use and cannot be added or removed: aws:x", &types.InvalidTagException{}},
	} {
		_, err := e.client.ImportCertificate(ctx, tc.in)
		if got := code(err); got != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.name, got, tc.want)
		}
		if !isType(err, tc.typed) {
			t.Errorf("%s: error %s is not %T", tc.name, code(err), tc.typed)
		}
	}
	if n := len(e.p.entries); n != 0 {
		t.Fatalf("refused imports logged %d entries", n)
	}
}

func TestReimport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := makeCert(t, certOpts{cn: "app.example.com", key: rsaKey(t, 2048)})
	a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: first.certPEM, PrivateKey: first.keyPEM,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	before, _ := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
	time.Sleep(5 * time.Millisecond)
	second := makeCert(t, certOpts{cn: "app.example.com", key: ecKey(t, elliptic.P256()), keyForm: "sec1"})
	if got := mustImport(t, e, &acm.ImportCertificateInput{Certificate: second.certPEM, PrivateKey: second.keyPEM, CertificateArn: &a}); got != a {
		t.Fatalf("re-import answered %s, want %s", got, a)
	}
	after, err := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.Certificate.Serial) == aws.ToString(before.Certificate.Serial) || after.Certificate.KeyAlgorithm != "EC_prime256v1" {
		t.Fatalf("re-import did not replace the material: %s %s", aws.ToString(after.Certificate.Serial), after.Certificate.KeyAlgorithm)
	}
	if !after.Certificate.CreatedAt.Equal(*before.Certificate.CreatedAt) || !after.Certificate.ImportedAt.After(*before.Certificate.ImportedAt) {
		t.Fatalf("CreatedAt %v→%v ImportedAt %v→%v", before.Certificate.CreatedAt, after.Certificate.CreatedAt, before.Certificate.ImportedAt, after.Certificate.ImportedAt)
	}
	tags, _ := e.client.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: &a})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("tags after re-import: %v", tags.Tags)
	}
	_, key, _ := e.api.Certificate(a)
	if _, err := tls.X509KeyPair(second.certPEM, []byte(key)); err != nil {
		t.Fatalf("the re-imported key: %v", err)
	}
	_, err = e.client.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: second.certPEM, PrivateKey: second.keyPEM, CertificateArn: &a,
		Tags: []types.Tag{{Key: aws.String("x")}}})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Fatalf("re-import with tags: %v", err)
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var rsaARNs []string
	for i := range 5 {
		p := makeCert(t, certOpts{cn: fmt.Sprintf("r%d.example.com", i), key: rsaKey(t, 2048)})
		rsaARNs = append(rsaARNs, mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM}))
	}
	ec := makeCert(t, certOpts{cn: "ec.example.com", key: ecKey(t, elliptic.P256()), keyForm: "sec1"})
	ecARN := mustImport(t, e, &acm.ImportCertificateInput{Certificate: ec.certPEM, PrivateKey: ec.keyPEM})
	old := makeCert(t, certOpts{cn: "old.example.com", key: rsaKey(t, 2048), notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
	oldARN := mustImport(t, e, &acm.ImportCertificateInput{Certificate: old.certPEM, PrivateKey: old.keyPEM})

	list := func(in *acm.ListCertificatesInput) []string {
		t.Helper()
		var out []string
		pages := acm.NewListCertificatesPaginator(e.client, in)
		n := 0
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n++
			if in.MaxItems != nil && len(page.CertificateSummaryList) > int(*in.MaxItems) {
				t.Fatalf("page of %d, MaxItems %d", len(page.CertificateSummaryList), *in.MaxItems)
			}
			for _, s := range page.CertificateSummaryList {
				out = append(out, aws.ToString(s.CertificateArn))
			}
		}
		return out
	}
	// By default: RSA_1024 and RSA_2048 only, any status.
	all := list(&acm.ListCertificatesInput{MaxItems: aws.Int32(2)})
	if len(all) != 6 || contains(all, ecARN) || !contains(all, oldARN) {
		t.Fatalf("default list: %v", all)
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a] {
			t.Fatalf("%s listed twice", a)
		}
		seen[a] = true
	}
	if got := list(&acm.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}}); len(got) != 1 || got[0] != ecARN {
		t.Fatalf("EC list: %v", got)
	}
	if got := list(&acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusExpired}}); len(got) != 1 || got[0] != oldARN {
		t.Fatalf("EXPIRED list: %v", got)
	}
	if got := list(&acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued},
		Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmRsa2048, types.KeyAlgorithmEcPrime256v1}}}); len(got) != 6 || contains(got, oldARN) {
		t.Fatalf("ISSUED RSA+EC list: %v", got)
	}
	if got := list(&acm.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmRsa4096}}}); len(got) != 0 {
		t.Fatalf("RSA_4096 list: %v", got)
	}
	if got := list(&acm.ListCertificatesInput{Includes: &types.Filters{ExtendedKeyUsage: []types.ExtendedKeyUsageName{types.ExtendedKeyUsageNameCodeSigning}}}); len(got) != 0 {
		t.Fatalf("CODE_SIGNING list: %v", got)
	}
	// Sorted by creation, newest first.
	desc := list(&acm.ListCertificatesInput{SortBy: types.SortByCreatedAt, SortOrder: types.SortOrderDescending, MaxItems: aws.Int32(4)})
	if len(desc) != 6 || desc[0] != oldARN || desc[5] != rsaARNs[0] {
		t.Fatalf("newest first: %v", desc)
	}
	// A summary.
	out, err := e.client.ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusExpired}})
	if err != nil {
		t.Fatal(err)
	}
	s := out.CertificateSummaryList[0]
	if aws.ToString(s.DomainName) != "old.example.com" || s.Status != "EXPIRED" || s.Type != "IMPORTED" || s.KeyAlgorithm != "RSA_2048" || aws.ToBool(s.InUse) {
		t.Fatalf("summary %+v", s)
	}
	_, err = e.client.ListCertificates(ctx, &acm.ListCertificatesInput{NextToken: aws.String("garbage")})
	var ia *types.InvalidArgsException
	if !errors.As(err, &ia) {
		t.Fatalf("bad token: %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestExpired(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := makeCert(t, certOpts{cn: "soon.example.com", key: rsaKey(t, 2048), notAfter: time.Now().Add(time.Hour)})
	a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM})
	status := func() types.CertificateStatus {
		d, err := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
		if err != nil {
			t.Fatal(err)
		}
		return d.Certificate.Status
	}
	if s := status(); s != types.CertificateStatusIssued {
		t.Fatalf("status %s", s)
	}
	e.mu.Lock()
	e.now = e.now.Add(2 * time.Hour)
	e.mu.Unlock()
	if s := status(); s != types.CertificateStatusExpired {
		t.Fatalf("past NotAfter: status %s", s)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := makeCert(t, certOpts{cn: "t.example.com", key: rsaKey(t, 2048)})
	a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM})
	listTags := func() string {
		out, err := e.client.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: &a})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, tg := range out.Tags {
			s = append(s, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(s, ",")
	}
	if got := listTags(); got != "" {
		t.Fatalf("tags of a new certificate: %q", got)
	}
	if _, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("flag")}, {Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if got := listTags(); got != "env=dev,flag=,team=a" {
		t.Fatalf("tags %q", got)
	}
	if _, err := e.client.RemoveTagsFromCertificate(ctx, &acm.RemoveTagsFromCertificateInput{CertificateArn: &a,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("other")}, {Key: aws.String("flag")}}}); err != nil {
		t.Fatal(err)
	}
	if got := listTags(); got != "env=dev,team=a" {
		t.Fatalf("after remove: %q", got)
	}

	many := func(n int, prefix string) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("%s%d", prefix, i))})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		typed any
	}{
		{"aws: prefix", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: []types.Tag{{Key: aws.String("aws:cloudformation:stack")}}})
			return err
		}, &types.InvalidTagException{}},
		{"remove aws:", func() error {
			_, err := e.client.RemoveTagsFromCertificate(ctx, &acm.RemoveTagsFromCertificateInput{CertificateArn: &a, Tags: []types.Tag{{Key: aws.String("AWS:x")}}})
			return err
		}, &types.InvalidTagException{}},
		{"49 more", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: many(49, "k")})
			return err
		}, &types.TooManyTagsException{}},
		{"51 at once", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: many(51, "k")})
			return err
		}, &types.TooManyTagsException{}},
		{"long key", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129))}}})
			return err
		}, &types.ValidationException{}},
		{"long value", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}})
			return err
		}, &types.ValidationException{}},
		{"bad character", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: []types.Tag{{Key: aws.String("a*b")}}})
			return err
		}, &types.ValidationException{}},
		{"unknown certificate", func() error {
			_, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(a[:len(a)-1] + "0"), Tags: []types.Tag{{Key: aws.String("k")}}})
			return err
		}, &types.ResourceNotFoundException{}},
		{"list unknown", func() error {
			_, err := e.client.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(a[:len(a)-1] + "0")})
			return err
		}, &types.ResourceNotFoundException{}},
	} {
		err := tc.call()
		if !isType(err, tc.typed) {
			t.Errorf("%s: %s, want %T", tc.name, code(err), tc.typed)
		}
	}
	// 48 more make 50: allowed.
	if _, err := e.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: &a, Tags: many(48, "k")}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteAndInUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := makeCert(t, certOpts{cn: "d.example.com", key: rsaKey(t, 2048)})
	a := mustImport(t, e, &acm.ImportCertificateInput{Certificate: p.certPEM, PrivateKey: p.keyPEM})
	listener := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/fedcba9876543210"
	e.users.set(a, listener)
	d, _ := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
	if len(d.Certificate.InUseBy) != 1 || d.Certificate.InUseBy[0] != listener {
		t.Fatalf("InUseBy %v", d.Certificate.InUseBy)
	}
	_, err := e.client.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: &a})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) || !strings.Contains(code(err), listener) {
		t.Fatalf("delete in use: %s", code(err))
	}
	e.users.set(a)
	if _, err := e.client.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: &a}); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"describe": func() error {
			_, err := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &a})
			return err
		},
		"get": func() error {
			_, err := e.client.GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: &a})
			return err
		},
		"delete": func() error {
			_, err := e.client.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: &a})
			return err
		},
	} {
		var nf *types.ResourceNotFoundException
		if err := call(); !errors.As(err, &nf) {
			t.Errorf("%s after delete: %s", name, code(err))
		}
	}
	if _, _, ok := e.api.Certificate(a); ok {
		t.Fatal("a deleted certificate resolves")
	}
	var ia *types.InvalidArnException
	if _, err := e.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:s3:::bucket/with/a/long/name")}); !errors.As(err, &ia) {
		t.Fatalf("describe of a bad ARN: %s", code(err))
	}
}

func TestUnsupportedOperation(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String("example.com")})
	if got := code(err); !strings.Contains(got, "does not support the RequestCertificate operation yet") {
		t.Fatalf("RequestCertificate: %s", got)
	}
}
