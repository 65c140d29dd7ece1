package acmapi

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"berth.dev/berth/internal/acmshape"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// ACM's tag limits.
const (
	maxTagKey   = 128
	maxTagValue = 256
)

var (
	arnPattern = regexp.MustCompile(`^arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*$`)
	tagPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// defaultKeyTypes are the key types ListCertificates returns when the
// request names none (ACM's user guide: RSA_1024 and RSA_2048).
var defaultKeyTypes = []acmshape.KeyAlgorithm{acmshape.KeyAlgorithmRsa1024, acmshape.KeyAlgorithmRsa2048}

func meta(req *awsproto.Request) wire.Meta { return wire.Meta{Now: req.Now, Principal: req.Principal} }

func notNull(member string) *awsproto.Error {
	return validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// certificateARN checks a request's CertificateArn.
func certificateARN(s *string) (string, error) {
	if s == nil {
		return "", notNull("certificateArn")
	}
	v := *s
	if len(v) < 20 || len(v) > 2048 || !arnPattern.MatchString(v) {
		return "", acmErrorf("InvalidArnException", "String '%s' is not a valid ARN.", clip(v))
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// lookup finds a certificate of this account and region.
func lookup(snap *state.Snapshot, arn string) (*state.Certificate, error) {
	c := snap.Certificate(arn)
	if c == nil {
		return nil, fsm.ErrCertificateNotFound(arn)
	}
	return c, nil
}

// checkTags applies ACM's tag rules to a request's tags.
func checkTags(tags []acmshape.Tag) ([]wire.ACMTag, error) {
	if len(tags) == 0 {
		return nil, validationf("1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(tags) > fsm.ACMMaxTags {
		return nil, acmErrorf("TooManyTagsException", "A certificate can have at most %d tags; the request has %d.", fsm.ACMMaxTags, len(tags))
	}
	out := make([]wire.ACMTag, 0, len(tags))
	for i, t := range tags {
		if t.Key == nil {
			return nil, validationf("1 validation error detected: Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", i+1)
		}
		k := *t.Key
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKey || !tagPattern.MatchString(k) {
			return nil, validationf("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and %d and match the pattern [\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*", clip(k), i+1, maxTagKey)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, acmErrorf("InvalidTagException", "Tags beginning with aws: are reserved for AWS use and cannot be added or removed: %s", clip(k))
		}
		if t.Value != nil {
			v := *t.Value
			if utf8.RuneCountInString(v) > maxTagValue || !tagPattern.MatchString(v) {
				return nil, validationf("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to %d and match the pattern [\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*", clip(v), i+1, maxTagValue)
			}
		}
		out = append(out, wire.ACMTag{Key: k, Value: t.Value})
	}
	return out, nil
}

func (a *API) importCertificate(ctx context.Context, req *awsproto.Request, in *acmshape.ImportCertificateRequest) (*acmshape.ImportCertificateResponse, error) {
	if len(in.Certificate) == 0 {
		return nil, notNull("certificate")
	}
	if len(in.PrivateKey) == 0 {
		return nil, notNull("privateKey")
	}
	cmd := wire.ImportCertificate{Meta: meta(req)}
	if in.CertificateArn != nil {
		arn, err := certificateARN(in.CertificateArn)
		if err != nil {
			return nil, err
		}
		if len(in.Tags) > 0 {
			return nil, acmError("InvalidParameterException", "You cannot add tags to a certificate you reimport: tag it with AddTagsToCertificate.")
		}
		if _, err := lookup(a.cfg.State.Snapshot(), arn); err != nil {
			return nil, err
		}
		cmd.ARN, cmd.Reimport = arn, true
	} else {
		cmd.ARN = "arn:" + a.cfg.Partition + ":acm:" + a.cfg.Region + ":" + a.cfg.Account + ":certificate/" + a.cfg.NewUUID()
	}
	if len(in.Tags) > 0 {
		tags, err := checkTags(in.Tags)
		if err != nil {
			return nil, err
		}
		cmd.Tags = tags
	}
	m, err := parseMaterial(in.Certificate, in.PrivateKey, in.CertificateChain)
	if err != nil {
		return nil, err
	}
	sealed, err := a.cfg.Sealer.Seal(m.keyPEM, []byte(cmd.ARN))
	clear(m.keyPEM)
	if err != nil {
		return nil, err
	}
	cmd.Certificate, cmd.Chain, cmd.SealedKey, cmd.NotAfter = m.leafPEM, m.chainPEM, sealed, m.leaf.NotAfter.UTC()
	if _, err := a.apply(ctx, req, cmd); err != nil {
		return nil, err
	}
	return &acmshape.ImportCertificateResponse{CertificateArn: &cmd.ARN}, nil
}

// parsed is a stored certificate with its parsed leaf.
type parsed struct {
	rec  *state.Certificate
	leaf *x509.Certificate
}

func parseStored(c *state.Certificate) (*parsed, error) {
	blk, _ := pem.Decode([]byte(c.CertificatePEM))
	if blk == nil {
		return nil, acmErrorf("InvalidStateException", "The certificate %s cannot be read.", c.ARN)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, acmErrorf("InvalidStateException", "The certificate %s cannot be read.", c.ARN)
	}
	return &parsed{rec: c, leaf: leaf}, nil
}

func (p *parsed) status(now time.Time) acmshape.CertificateStatus {
	if now.After(p.leaf.NotAfter) {
		return acmshape.CertificateStatusExpired
	}
	return acmshape.CertificateStatusIssued
}

func (a *API) detail(p *parsed) *acmshape.CertificateDetail {
	c, leaf := p.rec, p.leaf
	alg, _ := keyAlgorithm(leaf.PublicKey)
	d := &acmshape.CertificateDetail{
		CertificateArn:           &c.ARN,
		DomainName:               ptr(domainName(leaf)),
		SubjectAlternativeNames:  subjectAlternativeNames(leaf),
		Subject:                  ptr(distinguishedName(leaf.Subject)),
		Issuer:                   ptr(distinguishedName(leaf.Issuer)),
		Serial:                   ptr(serial(leaf)),
		NotBefore:                acmshape.NewTimestamp(leaf.NotBefore),
		NotAfter:                 acmshape.NewTimestamp(leaf.NotAfter),
		KeyAlgorithm:             alg,
		SignatureAlgorithm:       ptr(signatureAlgorithm(leaf.SignatureAlgorithm)),
		Type:                     acmshape.CertificateTypeImported,
		Status:                   p.status(a.cfg.Now()),
		CreatedAt:                acmshape.NewTimestamp(c.CreatedAt),
		ImportedAt:               acmshape.NewTimestamp(c.ImportedAt),
		InUseBy:                  orEmpty(a.usedBy(c.ARN)),
		RenewalEligibility:       acmshape.RenewalEligibilityIneligible,
		CertificateKeyPairOrigin: acmshape.CertificateKeyPairOriginCustomerProvided,
		ExtendedKeyUsages:        extendedKeyUsages(leaf),
		Options: &acmshape.CertificateOptions{
			CertificateTransparencyLoggingPreference: acmshape.CertificateTransparencyLoggingPreferenceEnabled,
			Export:                                   acmshape.CertificateExportDisabled,
		},
	}
	for _, u := range keyUsages(leaf) {
		d.KeyUsages = append(d.KeyUsages, acmshape.KeyUsage{Name: u})
	}
	return d
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) describeCertificate(ctx context.Context, req *awsproto.Request, in *acmshape.DescribeCertificateRequest) (*acmshape.DescribeCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	c, err := lookup(a.cfg.State.Snapshot(), arn)
	if err != nil {
		return nil, err
	}
	p, err := parseStored(c)
	if err != nil {
		return nil, err
	}
	return &acmshape.DescribeCertificateResponse{Certificate: a.detail(p)}, nil
}

func (a *API) getCertificate(ctx context.Context, req *awsproto.Request, in *acmshape.GetCertificateRequest) (*acmshape.GetCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	c, err := lookup(a.cfg.State.Snapshot(), arn)
	if err != nil {
		return nil, err
	}
	out := &acmshape.GetCertificateResponse{Certificate: ptr(c.CertificatePEM)}
	if c.ChainPEM != "" {
		out.CertificateChain = ptr(c.ChainPEM)
	}
	return out, nil
}

// listToken is ListCertificates' NextToken: the sort key of the last
// certificate returned.
type listToken struct {
	Op    string `json:"op"`
	After string `json:"after"`
}

func encodeToken(after string) *string {
	b, _ := json.Marshal(listToken{Op: "ListCertificates", After: after})
	return ptr(base64.RawURLEncoding.EncodeToString(b))
}

func decodeToken(s string) (string, error) {
	var t listToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Op != "ListCertificates" || t.After == "" {
		return "", acmError("InvalidArgsException", "The NextToken is not valid: pass the NextToken of the previous ListCertificates answer.")
	}
	return t.After, nil
}

func (a *API) listCertificates(ctx context.Context, req *awsproto.Request, in *acmshape.ListCertificatesRequest) (*acmshape.ListCertificatesResponse, error) {
	limit := 1000
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, validationf("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxItems)
		}
		limit = int(*in.MaxItems)
	}
	if (in.SortBy == "") != (in.SortOrder == "") {
		return nil, validationf("SortBy and SortOrder must be specified together.")
	}
	for _, s := range in.CertificateStatuses {
		if !slices.Contains(s.Values(), s) {
			return nil, validationf("1 validation error detected: Value '%s' at 'certificateStatuses' failed to satisfy constraint: Member must satisfy enum value set: %v", clip(string(s)), s.Values())
		}
	}
	filters := acmshape.Filters{}
	if in.Includes != nil {
		filters = *in.Includes
	}
	keyTypes := filters.KeyTypes
	if len(keyTypes) == 0 {
		keyTypes = defaultKeyTypes
	}
	for _, k := range keyTypes {
		if !slices.Contains(k.Values(), k) {
			return nil, validationf("1 validation error detected: Value '[%s]' at 'includes.keyTypes' failed to satisfy constraint: Member must satisfy enum value set: %v", clip(string(k)), k.Values())
		}
	}
	after := ""
	if in.NextToken != nil {
		var err error
		if after, err = decodeToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	origins := in.CertificateKeyPairOrigins
	if len(origins) == 0 {
		origins = []acmshape.CertificateKeyPairOrigin{acmshape.CertificateKeyPairOriginAwsManaged, acmshape.CertificateKeyPairOriginCustomerProvided}
	}
	now := a.cfg.Now()
	type item struct {
		key string
		sum acmshape.CertificateSummary
	}
	var items []item
	if slices.Contains(origins, acmshape.CertificateKeyPairOriginCustomerProvided) && filters.ManagedBy == "" {
		a.cfg.State.Snapshot().Certificates("", func(c *state.Certificate) bool {
			p, err := parseStored(c)
			if err != nil {
				return true
			}
			sum := a.summary(p, now)
			if len(in.CertificateStatuses) > 0 && !slices.Contains(in.CertificateStatuses, sum.Status) {
				return true
			}
			if !slices.Contains(keyTypes, sum.KeyAlgorithm) || !anyOf(filters.KeyUsage, sum.KeyUsages) ||
				!anyOf(filters.ExtendedKeyUsage, sum.ExtendedKeyUsages) {
				return true
			}
			if filters.ExportOption != "" && filters.ExportOption != acmshape.CertificateExportDisabled {
				return true
			}
			key := c.ARN
			if in.SortBy != "" {
				key = c.CreatedAt.UTC().Format("20060102T150405.000000000Z") + " " + c.ARN
			}
			items = append(items, item{key: key, sum: sum})
			return true
		})
	}
	desc := in.SortOrder == acmshape.SortOrderDescending
	slices.SortFunc(items, func(x, y item) int {
		if desc {
			return cmp.Compare(y.key, x.key)
		}
		return cmp.Compare(x.key, y.key)
	})
	start := 0
	if after != "" {
		start = len(items)
		for i, it := range items {
			if desc && it.key < after || !desc && it.key > after {
				start = i
				break
			}
		}
	}
	out := &acmshape.ListCertificatesResponse{CertificateSummaryList: []acmshape.CertificateSummary{}}
	end := min(start+limit, len(items))
	for _, it := range items[start:end] {
		out.CertificateSummaryList = append(out.CertificateSummaryList, it.sum)
	}
	if end < len(items) {
		out.NextToken = encodeToken(items[end-1].key)
	}
	return out, nil
}

// anyOf reports whether want is empty or has has one of its values.
func anyOf[T comparable](want, has []T) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.Contains(has, w) {
			return true
		}
	}
	return false
}

func (a *API) summary(p *parsed, now time.Time) acmshape.CertificateSummary {
	c, leaf := p.rec, p.leaf
	alg, _ := keyAlgorithm(leaf.PublicKey)
	sans := subjectAlternativeNames(leaf)
	s := acmshape.CertificateSummary{
		CertificateArn:                       &c.ARN,
		DomainName:                           ptr(domainName(leaf)),
		SubjectAlternativeNameSummaries:      sans,
		HasAdditionalSubjectAlternativeNames: ptr(false),
		Status:                               p.status(now),
		Type:                                 acmshape.CertificateTypeImported,
		KeyAlgorithm:                         alg,
		KeyUsages:                            keyUsages(leaf),
		InUse:                                ptr(len(a.usedBy(c.ARN)) > 0),
		RenewalEligibility:                   acmshape.RenewalEligibilityIneligible,
		NotBefore:                            acmshape.NewTimestamp(leaf.NotBefore),
		NotAfter:                             acmshape.NewTimestamp(leaf.NotAfter),
		CreatedAt:                            acmshape.NewTimestamp(c.CreatedAt),
		ImportedAt:                           acmshape.NewTimestamp(c.ImportedAt),
		CertificateKeyPairOrigin:             acmshape.CertificateKeyPairOriginCustomerProvided,
		ExportOption:                         acmshape.CertificateExportDisabled,
		Exported:                             ptr(false),
	}
	for _, e := range extendedKeyUsages(leaf) {
		s.ExtendedKeyUsages = append(s.ExtendedKeyUsages, e.Name)
	}
	return s
}

func (a *API) deleteCertificate(ctx context.Context, req *awsproto.Request, in *acmshape.DeleteCertificateRequest) (*acmshape.DeleteCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	if _, err := lookup(a.cfg.State.Snapshot(), arn); err != nil {
		return nil, err
	}
	if users := a.usedBy(arn); len(users) > 0 {
		return nil, acmErrorf("ResourceInUseException", "Certificate %s in account %s is in use by %s.", arn, a.cfg.Account, strings.Join(users, ", "))
	}
	if _, err := a.apply(ctx, req, wire.DeleteCertificate{Meta: meta(req), ARN: arn}); err != nil {
		return nil, err
	}
	return &acmshape.DeleteCertificateResponse{}, nil
}

func (a *API) addTags(ctx context.Context, req *awsproto.Request, in *acmshape.AddTagsToCertificateRequest) (*acmshape.AddTagsToCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, notNull("tags")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.AddCertificateTags{Meta: meta(req), ARN: arn, Tags: tags}); err != nil {
		return nil, err
	}
	return &acmshape.AddTagsToCertificateResponse{}, nil
}

func (a *API) removeTags(ctx context.Context, req *awsproto.Request, in *acmshape.RemoveTagsFromCertificateRequest) (*acmshape.RemoveTagsFromCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, notNull("tags")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.RemoveCertificateTags{Meta: meta(req), ARN: arn, Tags: tags}); err != nil {
		return nil, err
	}
	return &acmshape.RemoveTagsFromCertificateResponse{}, nil
}

func (a *API) listTags(ctx context.Context, req *awsproto.Request, in *acmshape.ListTagsForCertificateRequest) (*acmshape.ListTagsForCertificateResponse, error) {
	arn, err := certificateARN(in.CertificateArn)
	if err != nil {
		return nil, err
	}
	c, err := lookup(a.cfg.State.Snapshot(), arn)
	if err != nil {
		return nil, err
	}
	out := &acmshape.ListTagsForCertificateResponse{Tags: []acmshape.Tag{}}
	for _, t := range c.Tags {
		out.Tags = append(out.Tags, acmshape.Tag{Key: ptr(t.Key), Value: t.Value})
	}
	return out, nil
}
