package acmapi

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"berth.dev/berth/internal/acmshape"
)

// ACM's limits on the imported material (the model's lengths).
const (
	maxCertificateLen = 32768
	maxPrivateKeyLen  = 5120
	maxChainLen       = 2097152
)

// material is a validated import: the leaf, its chain and its key, each
// as the PEM berth keeps.
type material struct {
	leaf     *x509.Certificate
	leafPEM  string
	chainPEM string
	keyPEM   []byte // normalized to one PEM block; never logged
}

// parseMaterial validates ImportCertificate's blobs as ACM does: one PEM
// X.509 certificate, an unencrypted RSA or ECDSA private key (PKCS#1,
// PKCS#8 or SEC1) that matches its public key, and a chain of PEM
// certificates. Errors never quote the key.
func parseMaterial(certificate, privateKey, chain []byte) (*material, error) {
	if len(certificate) > maxCertificateLen {
		return nil, validationf("1 validation error detected: Value at 'certificate' failed to satisfy constraint: Member must have length less than or equal to %d", maxCertificateLen)
	}
	if len(privateKey) > maxPrivateKeyLen {
		return nil, validationf("1 validation error detected: Value at 'privateKey' failed to satisfy constraint: Member must have length less than or equal to %d", maxPrivateKeyLen)
	}
	if len(chain) > maxChainLen {
		return nil, validationf("1 validation error detected: Value at 'certificateChain' failed to satisfy constraint: Member must have length less than or equal to %d", maxChainLen)
	}
	certs, rest := pemBlocks(certificate, "CERTIFICATE")
	switch {
	case len(certs) == 0 || len(bytes.TrimSpace(rest)) > 0:
		return nil, validationf("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	case len(certs) > 1:
		return nil, validationf("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	leaf, err := x509.ParseCertificate(certs[0].Bytes)
	if err != nil {
		return nil, validationf("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if _, err := keyAlgorithm(leaf.PublicKey); err != nil {
		return nil, validationf("The certificate's public key algorithm is not supported: ACM imports RSA (1024 to 4096 bits) and ECDSA (P-256, P-384, P-521) certificates.")
	}
	m := &material{leaf: leaf, leafPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Bytes}))}

	key, err := parsePrivateKey(privateKey)
	if err != nil {
		return nil, err
	}
	if !publicKeyMatches(leaf.PublicKey, key) {
		return nil, validationf("The private key does not match the public key in the certificate.")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, validationf("The private key is not supported.")
	}
	m.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	if len(bytes.TrimSpace(chain)) > 0 {
		blocks, rest := pemBlocks(chain, "CERTIFICATE")
		if len(blocks) == 0 || len(bytes.TrimSpace(rest)) > 0 {
			return nil, validationf("Could not validate the certificate with the certificate chain.")
		}
		var b strings.Builder
		for _, blk := range blocks {
			if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
				return nil, validationf("Could not validate the certificate with the certificate chain.")
			}
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes}))
		}
		m.chainPEM = b.String()
	}
	return m, nil
}

// pemBlocks returns the PEM blocks of data, all of which must be of type
// typ; rest is what follows the last block (or all of data when a block
// of another type is met).
func pemBlocks(data []byte, typ string) ([]*pem.Block, []byte) {
	var out []*pem.Block
	rest := data
	for {
		blk, r := pem.Decode(rest)
		if blk == nil {
			return out, rest
		}
		if blk.Type != typ {
			return out, data
		}
		out = append(out, blk)
		rest = r
	}
}

// parsePrivateKey reads one unencrypted PEM private key: PKCS#1 RSA,
// SEC1 EC or PKCS#8 (RSA or ECDSA).
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	// openssl ecparam -genkey writes an EC PARAMETERS block first: skip it.
	var blk *pem.Block
	rest := data
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		rest = r
		if b.Type == "EC PARAMETERS" {
			continue
		}
		if blk != nil {
			return nil, validationf("The private key field contains more than one private key. You can specify only one private key in this field.")
		}
		blk = b
	}
	if blk == nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, validationf("Unable to parse private key. Please ensure the private key is in PEM format.")
	}
	if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
		return nil, validationf("The private key is encrypted. Import an unencrypted private key.")
	}
	var key any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	default:
		return nil, validationf("Unable to parse private key. Please ensure the private key is in PEM format.")
	}
	if err != nil {
		return nil, validationf("Unable to parse private key. Please ensure the private key is in PEM format.")
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, validationf("The private key is not supported: ACM imports RSA and ECDSA keys.")
}

func publicKeyMatches(pub crypto.PublicKey, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}

// keyAlgorithm names a public key as ACM does (RSA_2048, EC_prime256v1).
func keyAlgorithm(pub crypto.PublicKey) (acmshape.KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); bits {
		case 1024, 2048, 3072, 4096:
			return acmshape.KeyAlgorithm(fmt.Sprintf("RSA_%d", bits)), nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return acmshape.KeyAlgorithmEcPrime256v1, nil
		case elliptic.P384():
			return acmshape.KeyAlgorithmEcSecp384r1, nil
		case elliptic.P521():
			return acmshape.KeyAlgorithmEcSecp521r1, nil
		}
	}
	return "", fmt.Errorf("unsupported public key %T", pub)
}

// signatureAlgorithm names a signature algorithm as ACM does
// (SHA256WITHRSA, SHA384WITHECDSA).
func signatureAlgorithm(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.SHA384WithRSAPSS:
		return "SHA384WITHRSAANDMGF1"
	case x509.SHA512WithRSAPSS:
		return "SHA512WITHRSAANDMGF1"
	case x509.ECDSAWithSHA1:
		return "SHA1WITHECDSA"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	}
	return strings.ToUpper(strings.ReplaceAll(a.String(), "-", "WITH"))
}

// distinguishedName writes a name in its certificate's RDN order, as ACM
// shows Subject and Issuer ("C=US,O=Example,CN=example.com").
func distinguishedName(n pkix.Name) string {
	seq := n.ToRDNSequence()
	parts := make([]string, 0, len(seq))
	for _, rdn := range seq {
		parts = append(parts, pkix.RDNSequence{rdn}.String())
	}
	return strings.Join(parts, ",")
}

// serial writes a serial number as ACM does: its bytes in lowercase hex
// separated by colons.
func serial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(parts, ":")
}

// domainName is the certificate's main name: its subject's common name,
// else its first DNS name.
func domainName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return ""
}

// subjectAlternativeNames are the certificate's DNS names (IP addresses
// and e-mail addresses after them), or its domain name when it has none.
func subjectAlternativeNames(c *x509.Certificate) []string {
	out := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, c.EmailAddresses...)
	if len(out) == 0 {
		if d := domainName(c); d != "" {
			out = append(out, d)
		}
	}
	return out
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name acmshape.KeyUsageName
}{
	{x509.KeyUsageDigitalSignature, acmshape.KeyUsageNameDigitalSignature},
	{x509.KeyUsageContentCommitment, acmshape.KeyUsageNameNonRepudation},
	{x509.KeyUsageKeyEncipherment, acmshape.KeyUsageNameKeyEncipherment},
	{x509.KeyUsageDataEncipherment, acmshape.KeyUsageNameDataEncipherment},
	{x509.KeyUsageKeyAgreement, acmshape.KeyUsageNameKeyAgreement},
	{x509.KeyUsageCertSign, acmshape.KeyUsageNameCertificateSigning},
	{x509.KeyUsageCRLSign, acmshape.KeyUsageNameCrlSigning},
	{x509.KeyUsageEncipherOnly, acmshape.KeyUsageNameEnchiperOnly},
	{x509.KeyUsageDecipherOnly, acmshape.KeyUsageNameDecipherOnly},
}

func keyUsages(c *x509.Certificate) []acmshape.KeyUsageName {
	var out []acmshape.KeyUsageName
	for _, u := range keyUsageNames {
		if c.KeyUsage&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

var extKeyUsageNames = map[x509.ExtKeyUsage]struct {
	name acmshape.ExtendedKeyUsageName
	oid  string
}{
	x509.ExtKeyUsageServerAuth:      {acmshape.ExtendedKeyUsageNameTlsWebServerAuthentication, "1.3.6.1.5.5.7.3.1"},
	x509.ExtKeyUsageClientAuth:      {acmshape.ExtendedKeyUsageNameTlsWebClientAuthentication, "1.3.6.1.5.5.7.3.2"},
	x509.ExtKeyUsageCodeSigning:     {acmshape.ExtendedKeyUsageNameCodeSigning, "1.3.6.1.5.5.7.3.3"},
	x509.ExtKeyUsageEmailProtection: {acmshape.ExtendedKeyUsageNameEmailProtection, "1.3.6.1.5.5.7.3.4"},
	x509.ExtKeyUsageIPSECEndSystem:  {acmshape.ExtendedKeyUsageNameIpsecEndSystem, "1.3.6.1.5.5.7.3.5"},
	x509.ExtKeyUsageIPSECTunnel:     {acmshape.ExtendedKeyUsageNameIpsecTunnel, "1.3.6.1.5.5.7.3.6"},
	x509.ExtKeyUsageIPSECUser:       {acmshape.ExtendedKeyUsageNameIpsecUser, "1.3.6.1.5.5.7.3.7"},
	x509.ExtKeyUsageTimeStamping:    {acmshape.ExtendedKeyUsageNameTimeStamping, "1.3.6.1.5.5.7.3.8"},
	x509.ExtKeyUsageOCSPSigning:     {acmshape.ExtendedKeyUsageNameOcspSigning, "1.3.6.1.5.5.7.3.9"},
	x509.ExtKeyUsageAny:             {acmshape.ExtendedKeyUsageNameAny, "2.5.29.37.0"},
}

func extendedKeyUsages(c *x509.Certificate) []acmshape.ExtendedKeyUsage {
	var out []acmshape.ExtendedKeyUsage
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			out = append(out, acmshape.ExtendedKeyUsage{Name: n.name, OID: ptr(n.oid)})
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, acmshape.ExtendedKeyUsage{Name: acmshape.ExtendedKeyUsageNameCustom, OID: ptr(oid.String())})
	}
	if len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) == 0 {
		out = append(out, acmshape.ExtendedKeyUsage{Name: acmshape.ExtendedKeyUsageNameNone})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
