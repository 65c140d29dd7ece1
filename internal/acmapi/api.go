// Package acmapi serves the AWS Certificate Manager API (AWS JSON 1.1,
// target prefix CertificateManager, signing name acm) on berth's AWS
// protocol edge, for the certificates of berth's load balancers: HTTPS and
// TLS listeners name a certificate imported with ImportCertificate, as on
// AWS.
//
// Served: ImportCertificate (and re-import), DescribeCertificate,
// GetCertificate, ListCertificates, DeleteCertificate,
// AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate.
// Every other operation of the model is answered "not supported yet".
//
// Secrets: the private key is validated, sealed (package seal, with the
// certificate's ARN as associated data) and only then proposed, so the
// raft log and snapshots hold the sealed bytes alone; no API answer
// returns it (GetCertificate returns the certificate and chain, as ACM's
// does for imported certificates). Certificate opens it for the load
// balancers: the data-plane configuration stream carries the opened key
// to the load-balancer nodes over their authenticated stream, and the
// nodes keep it in a 0600 file.
//
// Reads come from one state snapshot; derived values (status EXPIRED past
// NotAfter, the parsed fields of CertificateDetail) are computed at read
// time. Certificates in use by a listener (InUse) cannot be deleted.
package acmapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/acmshape"
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of the ACM API.
const TargetPrefix = "CertificateManager"

// MaxBody bounds request bodies: ImportCertificate's chain may be 2 MiB,
// which base64 makes 2.7 MiB.
const MaxBody = 4 << 20

// Reader gives consistent read-only views of the state.
type Reader interface {
	Snapshot() *state.Snapshot
}

// Proposer commits commands to the replicated state machine.
type Proposer interface {
	Apply(ctx context.Context, c wire.Command) (any, error)
}

// Sealer seals secrets at rest (package seal's *Sealer).
type Sealer interface {
	Seal(plaintext, associatedData []byte) ([]byte, error)
	Open(sealed, associatedData []byte) ([]byte, error)
}

// InUse tells which resources use a certificate: the ARNs of the ELB
// listeners that name it (DescribeCertificate's InUseBy,
// ListCertificates' InUse, DeleteCertificate's ResourceInUseException).
type InUse interface {
	InUse(certARN string) []string
}

// Config wires an API.
type Config struct {
	// Partition ("aws"), Region and Account build certificate ARNs
	// (arn:aws:acm:REGION:ACCOUNT:certificate/UUID).
	Partition, Region, Account string
	State                      Reader
	Proposer                   Proposer
	Sealer                     Sealer
	// InUse may be nil (no certificate in use) and set later (SetInUse).
	InUse InUse
	Log   *slog.Logger
	// Now is the clock of read-time status (EXPIRED); default time.Now.
	Now func() time.Time
	// NewUUID makes certificate IDs; default a random version 4 UUID.
	NewUUID func() string
}

// API is the ACM API.
type API struct {
	cfg   Config
	log   *slog.Logger
	inUse atomic.Pointer[InUse]
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewUUID == nil {
		cfg.NewUUID = newUUID
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, log: cfg.Log.With("component", "acmapi")}
	if cfg.InUse != nil {
		a.SetInUse(cfg.InUse)
	}
	return a
}

// SetInUse wires the source of the certificates' users (the ELBv2 API),
// which is built after the ACM API.
func (a *API) SetInUse(u InUse) { a.inUse.Store(&u) }

func (a *API) usedBy(arn string) []string {
	u := a.inUse.Load()
	if u == nil || *u == nil {
		return nil
	}
	return (*u).InUse(arn)
}

// Service describes the ACM API to the protocol edge.
func (a *API) Service() awsproto.Service {
	return awsproto.Service{
		Name: "ACM", SigningName: "acm", Protocol: awsproto.JSON11, TargetPrefix: TargetPrefix,
		ErrorMessageMember: "message",
		// A chain may be 2 MiB, sent in base64.
		MaxBody: MaxBody,
		Operations: map[string]awsproto.Operation{
			"ImportCertificate":         awsproto.Handle(a.importCertificate),
			"DescribeCertificate":       awsproto.Handle(a.describeCertificate),
			"GetCertificate":            awsproto.Handle(a.getCertificate),
			"ListCertificates":          awsproto.Handle(a.listCertificates),
			"DeleteCertificate":         awsproto.Handle(a.deleteCertificate),
			"AddTagsToCertificate":      awsproto.Handle(a.addTags),
			"RemoveTagsFromCertificate": awsproto.Handle(a.removeTags),
			"ListTagsForCertificate":    awsproto.Handle(a.listTags),
		},
		Known:    func(op string) bool { return slices.Contains(acmshape.Operations, op) },
		MapError: mapError,
	}
}

// Certificate returns a certificate's PEM chain (the leaf, then its
// chain) and its opened private key (PKCS#8 PEM), for the load balancers'
// data plane; ok is false for an unknown ARN or a key that does not open
// (logged, without the key). It implements elbapi.CertificateSource.
func (a *API) Certificate(arn string) (chainPEM, keyPEM string, ok bool) {
	c := a.cfg.State.Snapshot().Certificate(arn)
	if c == nil {
		return "", "", false
	}
	key, err := a.cfg.Sealer.Open(c.SealedKey, []byte(c.ARN))
	if err != nil {
		a.log.Error("a certificate's private key does not open", "certificate", arn, "err", err)
		return "", "", false
	}
	return c.CertificatePEM + c.ChainPEM, string(key), true
}

// acmError is an ACM error of a code of the model.
func acmError(code, msg string) *awsproto.Error {
	status, ok := acmshape.ErrorStatus[code]
	if !ok {
		status = 400
	}
	return awsproto.WithStatus(status, code, msg)
}

func acmErrorf(code, format string, args ...any) *awsproto.Error {
	return acmError(code, fmt.Sprintf(format, args...))
}

func validationf(format string, args ...any) *awsproto.Error {
	return acmErrorf("ValidationException", format, args...)
}

// mapError answers the state machine's ACM errors (apierr with ACM codes).
func mapError(err error) (*awsproto.Error, bool) {
	e, ok := apierr.As(err)
	if !ok {
		return nil, false
	}
	if _, known := acmshape.ErrorCodes[e.Code]; !known {
		return nil, false
	}
	return acmError(e.Code, e.Message), true
}

// apply proposes a command and maps consensus failures to server errors.
func (a *API) apply(ctx context.Context, req *awsproto.Request, cmd wire.Command) (any, error) {
	v, err := a.cfg.Proposer.Apply(ctx, cmd)
	if err == nil {
		return v, nil
	}
	if _, ok := apierr.As(err); ok {
		return nil, err
	}
	if errors.Is(err, fsm.ErrNotCommitted) {
		return nil, awsproto.WithStatus(500, "InternalFailure", "The change was not made: the server could not commit it. Retry the request. Request ID: "+req.RequestID)
	}
	return nil, awsproto.WithStatus(500, "InternalFailure", "The server did not confirm the change in time: it may or may not have been made. Check before retrying. Request ID: "+req.RequestID)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
