package secretsapi

import (
	"context"
	"slices"

	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/policy"
	"berth.dev/berth/internal/smshape"
)

// MaxResourcePolicyLength bounds a secret's resource policy (Secrets
// Manager's limit, in characters).
const MaxResourcePolicyLength = 20480

// Secrets Manager's resource policy answers.
const (
	codeMalformedPolicy = "MalformedPolicyDocumentException"
	codePublicPolicy    = "PublicPolicyException"
	msgPolicySyntax     = "This resource policy contains a syntax error."
	msgPublicPolicy     = "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret."
)

// checkResourcePolicy validates a resource policy document: IAM's grammar
// with a principal in every statement, and (blockPublic) no statement
// that allows anyone without a condition.
func checkResourcePolicy(doc *string, blockPublic bool) (string, error) {
	if doc == nil || *doc == "" {
		return "", invalidParameter("You must provide a ResourcePolicy.")
	}
	if len([]rune(*doc)) > MaxResourcePolicyLength {
		return "", invalidParameter("The ResourcePolicy is longer than %d characters.", MaxResourcePolicyLength)
	}
	d, err := policy.Parse(*doc, policy.Resource)
	if err != nil {
		return "", smError(codeMalformedPolicy, msgPolicySyntax)
	}
	if blockPublic && slices.ContainsFunc(d.Statements, public) {
		return "", smError(codePublicPolicy, msgPublicPolicy)
	}
	return *doc, nil
}

// public reports whether a statement allows any principal without a
// condition.
func public(s policy.Statement) bool {
	if s.Effect != "Allow" || s.Principal == nil || len(s.Condition) > 0 {
		return false
	}
	return s.Principal.Any || slices.Contains(s.Principal.Kinds[policy.KindAWS], "*")
}

// getResourcePolicy returns a secret's resource policy (none: the answer
// has no ResourcePolicy), of a secret scheduled for deletion too.
func (a *API) getResourcePolicy(ctx context.Context, req *awsproto.Request, in *smshape.GetResourcePolicyRequest) (*smshape.GetResourcePolicyResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	s, err := a.find(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	out := &smshape.GetResourcePolicyResponse{ARN: ptr(s.ARN), Name: ptr(s.Name)}
	if s.ResourcePolicy != "" {
		out.ResourcePolicy = ptr(s.ResourcePolicy)
	}
	return out, nil
}

// putResourcePolicy sets a live secret's resource policy (stored, not
// enforced). BlockPublicPolicy defaults to true, as the API's does.
func (a *API) putResourcePolicy(ctx context.Context, req *awsproto.Request, in *smshape.PutResourcePolicyRequest) (*smshape.PutResourcePolicyResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	doc, err := checkResourcePolicy(in.ResourcePolicy, in.BlockPublicPolicy == nil || *in.BlockPublicPolicy)
	if err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.PutSecretResourcePolicy{Meta: meta(req), ARN: s.ARN, Policy: doc}); err != nil {
		return nil, err
	}
	return &smshape.PutResourcePolicyResponse{ARN: ptr(s.ARN), Name: ptr(s.Name)}, nil
}

// deleteResourcePolicy removes a live secret's resource policy (none is
// no error).
func (a *API) deleteResourcePolicy(ctx context.Context, req *awsproto.Request, in *smshape.DeleteResourcePolicyRequest) (*smshape.DeleteResourcePolicyResponse, error) {
	id, err := checkSecretID(in.SecretId)
	if err != nil {
		return nil, err
	}
	s, err := a.live(a.cfg.State.Snapshot(), id, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	if _, err := a.apply(ctx, req, wire.PutSecretResourcePolicy{Meta: meta(req), ARN: s.ARN}); err != nil {
		return nil, err
	}
	return &smshape.DeleteResourcePolicyResponse{ARN: ptr(s.ARN), Name: ptr(s.Name)}, nil
}
