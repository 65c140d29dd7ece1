package contract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The provider's internal/service/secretsmanager: secret.go and
// secret_version.go.

var uniqueIDs atomic.Int64

// uniqueID mirrors id.UniqueId: "terraform-", a timestamp and a counter
// (36 characters, a valid ClientRequestToken).
func uniqueID() string {
	return fmt.Sprintf("terraform-%s%08d", time.Now().UTC().Format("20060102150405.000")[:17], uniqueIDs.Add(1))
}

// secretConfig is an aws_secretsmanager_secret's arguments.
type secretConfig struct {
	name, description, policy string
	tags                      map[string]string
	recoveryWindowInDays      int // the schema's default is 30
}

// createSecret mirrors resourceSecretCreate.
func (p *cfgProvider) createSecret(c context.Context, cfg secretConfig) (string, error) {
	in := &sm.CreateSecretInput{Description: aws.String(cfg.description), ForceOverwriteReplicaSecret: false, Name: aws.String(cfg.name),
		Tags: smTags(cfg.tags)}
	out, err := retryValue(c, propagationTimeout, func() (*sm.CreateSecretOutput, error) { return p.sm.CreateSecret(c, in) },
		func(err error) bool {
			var ire *smtypes.InvalidRequestException
			return errors.As(err, &ire) && (strings.Contains(ire.ErrorMessage(), "scheduled for deletion") || strings.Contains(ire.ErrorMessage(), "was deleted"))
		})
	if err != nil {
		return "", fmt.Errorf("creating Secrets Manager Secret (%s): %w", cfg.name, err)
	}
	id := aws.ToString(out.ARN)
	if _, err := retryValue(c, propagationTimeout, func() (*sm.DescribeSecretOutput, error) { return p.findSecretByID(c, id) },
		func(err error) bool { return errors.Is(err, errNotFound) }); err != nil {
		return "", fmt.Errorf("waiting for Secrets Manager Secret (%s) create: %w", id, err)
	}
	if cfg.policy != "" && cfg.policy != "{}" {
		if err := p.putSecretPolicy(c, id, cfg.policy); err != nil {
			return "", err
		}
	}
	return id, nil
}

func smTags(m map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for k, v := range m {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// putSecretPolicy mirrors putSecretPolicy: PutResourcePolicy, retried
// while a principal is not yet known.
func (p *cfgProvider) putSecretPolicy(c context.Context, id, policy string) error {
	_, err := retryValue(c, propagationTimeout, func() (*sm.PutResourcePolicyOutput, error) {
		return p.sm.PutResourcePolicy(c, &sm.PutResourcePolicyInput{ResourcePolicy: aws.String(policy), SecretId: aws.String(id)})
	}, func(err error) bool {
		var mp *smtypes.MalformedPolicyDocumentException
		return errors.As(err, &mp) && strings.Contains(mp.ErrorMessage(), "This resource policy contains an unsupported principal")
	})
	if err != nil {
		return fmt.Errorf("putting Secrets Manager Secret (%s) policy: %w", id, err)
	}
	return nil
}

// findSecretByID mirrors findSecretByID: DescribeSecret; not found, or
// scheduled for deletion, is errNotFound.
func (p *cfgProvider) findSecretByID(c context.Context, id string) (*sm.DescribeSecretOutput, error) {
	out, err := p.sm.DescribeSecret(c, &sm.DescribeSecretInput{SecretId: aws.String(id)})
	var rnf *smtypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if out.DeletedDate != nil {
		return nil, errNotFound
	}
	return out, nil
}

// readSecret mirrors resourceSecretRead; it returns the attributes it
// sets (nil: removed from the state).
func (p *cfgProvider) readSecret(c context.Context, id, configuredPolicy string) (map[string]any, error) {
	out, err := p.findSecretByID(c, id)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secrets Manager Secret (%s): %w", id, err)
	}
	st := map[string]any{"arn": aws.ToString(out.ARN), "description": aws.ToString(out.Description), "kms_key_id": aws.ToString(out.KmsKeyId),
		"name": aws.ToString(out.Name), "replica": len(out.ReplicationStatus)}
	pol, err := p.sm.GetResourcePolicy(c, &sm.GetResourcePolicyInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("reading Secrets Manager Secret (%s) policy: %w", id, err)
	}
	st["policy"] = ""
	if v := pol.ResourcePolicy; v != nil {
		if err := policiesEquivalent(configuredPolicy, aws.ToString(v)); err != nil {
			st["policy"] = aws.ToString(v)
		} else {
			st["policy"] = configuredPolicy
		}
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	st["tags"] = tags
	return st, nil
}

// updateSecret mirrors resourceSecretUpdate for a description, policy
// and tags change (the tags through the provider's tagging interceptor:
// UntagResource of the removed keys, TagResource of the new values).
func (p *cfgProvider) updateSecret(c context.Context, id string, old, cfg secretConfig) error {
	if old.description != cfg.description {
		if _, err := p.sm.UpdateSecret(c, &sm.UpdateSecretInput{ClientRequestToken: aws.String(uniqueID()), Description: aws.String(cfg.description),
			SecretId: aws.String(id)}); err != nil {
			return fmt.Errorf("updating Secrets Manager Secret (%s): %w", id, err)
		}
	}
	if old.policy != cfg.policy {
		if cfg.policy != "" && cfg.policy != "{}" {
			if err := p.putSecretPolicy(c, id, cfg.policy); err != nil {
				return err
			}
		} else if _, err := p.sm.DeleteResourcePolicy(c, &sm.DeleteResourcePolicyInput{SecretId: aws.String(id)}); err != nil {
			return fmt.Errorf("deleting Secrets Manager Secret (%s) policy: %w", id, err)
		}
	}
	removed, changed := tagChanges(old.tags, cfg.tags)
	if len(removed) > 0 {
		if _, err := p.sm.UntagResource(c, &sm.UntagResourceInput{SecretId: aws.String(id), TagKeys: removed}); err != nil {
			return fmt.Errorf("untagging resource (%s): %w", id, err)
		}
	}
	if len(changed) > 0 {
		if _, err := p.sm.TagResource(c, &sm.TagResourceInput{SecretId: aws.String(id), Tags: smTags(changed)}); err != nil {
			return fmt.Errorf("tagging resource (%s): %w", id, err)
		}
	}
	return nil
}

// tagChanges are the keys a tags update removes and the tags it sets.
func tagChanges(old, cfg map[string]string) ([]string, map[string]string) {
	var removed []string
	changed := map[string]string{}
	for k := range old {
		if _, ok := cfg[k]; !ok {
			removed = append(removed, k)
		}
	}
	for k, v := range cfg {
		if ov, ok := old[k]; !ok || ov != v {
			changed[k] = v
		}
	}
	slices.Sort(removed)
	return removed, changed
}

// deleteSecret mirrors resourceSecretDelete.
func (p *cfgProvider) deleteSecret(c context.Context, id string, recoveryWindowInDays int) error {
	in := &sm.DeleteSecretInput{SecretId: aws.String(id)}
	if recoveryWindowInDays == 0 {
		in.ForceDeleteWithoutRecovery = aws.Bool(true)
	} else {
		in.RecoveryWindowInDays = aws.Int64(int64(recoveryWindowInDays))
	}
	_, err := p.sm.DeleteSecret(c, in)
	var rnf *smtypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting Secrets Manager Secret (%s): %w", id, err)
	}
	if err := retryUntilNotFound(c, propagationTimeout, func() (*sm.DescribeSecretOutput, error) { return p.findSecretByID(c, id) }); err != nil {
		return fmt.Errorf("waiting for Secrets Manager Secret (%s) delete: %w", id, err)
	}
	return nil
}
