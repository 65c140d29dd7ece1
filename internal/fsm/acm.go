package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// ACM's codes (acmshape.ErrorCodes) for the rules the appliers keep.
const (
	ACMResourceNotFound = "ResourceNotFoundException"
	ACMTooManyTags      = "TooManyTagsException"
	ACMInvalidParameter = "InvalidParameterException"
	ACMInvalidTag       = "InvalidTagException"
)

// ACMMaxTags is ACM's limit of tags per certificate.
const ACMMaxTags = 50

// ErrCertificateNotFound is ACM's answer for an ARN it does not hold.
func ErrCertificateNotFound(arn string) *apierr.Error {
	return apierr.Newf(ACMResourceNotFound, "Could not find certificate with arn %s", arn)
}

func applyImportCertificate(m *Machine, tx *state.Txn, c *wire.ImportCertificate) (any, error) {
	old := tx.Certificate(c.ARN)
	if c.Reimport && old == nil {
		return nil, ErrCertificateNotFound(c.ARN)
	}
	if !c.Reimport && old != nil {
		// A new ARN is a fresh UUID: only a replayed proposal repeats one.
		return nil, apierr.Newf(ACMInvalidParameter, "A certificate with arn %s already exists.", c.ARN)
	}
	if len(c.SealedKey) == 0 {
		return nil, apierr.Newf(ACMInvalidParameter, "The private key is missing.")
	}
	cert := &state.Certificate{ARN: c.ARN, CertificatePEM: c.Certificate, ChainPEM: c.Chain, SealedKey: c.SealedKey,
		NotAfter: c.NotAfter, CreatedAt: c.Now, ImportedAt: c.Now}
	if old != nil {
		cert.CreatedAt = old.CreatedAt
		cert.Tags = old.Tags
	}
	if len(c.Tags) > 0 {
		tags, err := mergeCertificateTags(cert.Tags, c.Tags)
		if err != nil {
			return nil, err
		}
		cert.Tags = tags
	}
	if err := tx.Put(state.TableACMCertificates, cert); err != nil {
		return nil, err
	}
	return cert, nil
}

func applyDeleteCertificate(m *Machine, tx *state.Txn, c *wire.DeleteCertificate) (any, error) {
	old := tx.Certificate(c.ARN)
	if old == nil {
		return nil, ErrCertificateNotFound(c.ARN)
	}
	return nil, tx.Delete(state.TableACMCertificates, old)
}

func applyAddCertificateTags(m *Machine, tx *state.Txn, c *wire.AddCertificateTags) (any, error) {
	old := tx.Certificate(c.ARN)
	if old == nil {
		return nil, ErrCertificateNotFound(c.ARN)
	}
	tags, err := mergeCertificateTags(old.Tags, c.Tags)
	if err != nil {
		return nil, err
	}
	cert := *old
	cert.Tags = tags
	if err := tx.Put(state.TableACMCertificates, &cert); err != nil {
		return nil, err
	}
	return cert.Tags, nil
}

func applyRemoveCertificateTags(m *Machine, tx *state.Txn, c *wire.RemoveCertificateTags) (any, error) {
	old := tx.Certificate(c.ARN)
	if old == nil {
		return nil, ErrCertificateNotFound(c.ARN)
	}
	kept := []state.CertificateTag{}
	for _, t := range old.Tags {
		drop := false
		for _, r := range c.Tags {
			if r.Key == t.Key && (r.Value == nil || t.Value != nil && *r.Value == *t.Value) {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, t)
		}
	}
	cert := *old
	cert.Tags = kept
	if err := tx.Put(state.TableACMCertificates, &cert); err != nil {
		return nil, err
	}
	return cert.Tags, nil
}

// mergeCertificateTags adds or overwrites tags by key; more than
// ACMMaxTags in all is ACM's TooManyTagsException.
func mergeCertificateTags(old []state.CertificateTag, add []wire.ACMTag) ([]state.CertificateTag, error) {
	out := append([]state.CertificateTag{}, old...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, state.CertificateTag{Key: t.Key, Value: t.Value})
		}
	}
	if len(out) > ACMMaxTags {
		return nil, apierr.Newf(ACMTooManyTags, "The certificate would have %d tags: a certificate can have at most %d.", len(out), ACMMaxTags)
	}
	return out, nil
}

func certificateToWire(c *state.Certificate) wire.ACMCertificate {
	out := wire.ACMCertificate{ARN: c.ARN, Certificate: c.CertificatePEM, Chain: c.ChainPEM, SealedKey: c.SealedKey,
		NotAfter: c.NotAfter, CreatedAt: c.CreatedAt, ImportedAt: c.ImportedAt}
	for _, t := range c.Tags {
		out.Tags = append(out.Tags, wire.ACMTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func certificateFromWire(r wire.ACMCertificate) *state.Certificate {
	out := &state.Certificate{ARN: r.ARN, CertificatePEM: r.Certificate, ChainPEM: r.Chain, SealedKey: r.SealedKey,
		NotAfter: r.NotAfter, CreatedAt: r.CreatedAt, ImportedAt: r.ImportedAt}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, state.CertificateTag{Key: t.Key, Value: t.Value})
	}
	return out
}
