package contract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// createSecretVersion mirrors resourceSecretVersionCreate; the ID is
// secret|version.
func (p *cfgProvider) createSecretVersion(c context.Context, secretID, value string, stages []string) (string, error) {
	in := &sm.PutSecretValueInput{ClientRequestToken: aws.String(uniqueID()), SecretId: aws.String(secretID), SecretString: aws.String(value)}
	if len(stages) > 0 {
		in.VersionStages = stages
	}
	out, err := p.sm.PutSecretValue(c, in)
	if err != nil {
		return "", fmt.Errorf("putting Secrets Manager Secret (%s) value: %w", secretID, err)
	}
	versionID := aws.ToString(out.VersionId)
	if _, err := retryValue(c, propagationTimeout, func() (*sm.GetSecretValueOutput, error) { return p.findSecretVersion(c, secretID, versionID) },
		func(err error) bool { return errors.Is(err, errNotFound) }); err != nil {
		return "", fmt.Errorf("waiting for Secrets Manager Secret Version create: %w", err)
	}
	return secretID + "|" + versionID, nil
}

// findSecretVersion mirrors findSecretVersionByTwoPartKey: not found, or
// of a secret deleted or marked for deletion, is errNotFound.
func (p *cfgProvider) findSecretVersion(c context.Context, secretID, versionID string) (*sm.GetSecretValueOutput, error) {
	out, err := p.sm.GetSecretValue(c, &sm.GetSecretValueInput{SecretId: aws.String(secretID), VersionId: aws.String(versionID)})
	var rnf *smtypes.ResourceNotFoundException
	var ire *smtypes.InvalidRequestException
	if errors.As(err, &rnf) || errors.As(err, &ire) && (strings.Contains(ire.ErrorMessage(), "because it was deleted") ||
		strings.Contains(ire.ErrorMessage(), "because it was marked for deletion")) {
		return nil, errNotFound
	}
	return out, err
}

func splitVersionID(id string) (string, string) {
	secretID, versionID, _ := strings.Cut(id, "|")
	return secretID, versionID
}

// readSecretVersion mirrors resourceSecretVersionRead (nil: removed from
// the state). version_stages is a set: sorted here.
func (p *cfgProvider) readSecretVersion(c context.Context, id string) (map[string]any, error) {
	secretID, versionID := splitVersionID(id)
	out, err := p.findSecretVersion(c, secretID, versionID)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secrets Manager Secret Version (%s): %w", id, err)
	}
	stages := slices.Clone(out.VersionStages)
	slices.Sort(stages)
	return map[string]any{"arn": aws.ToString(out.ARN), "secret_string": aws.ToString(out.SecretString), "secret_id": secretID,
		"version_id": aws.ToString(out.VersionId), "version_stages": stages}, nil
}

// updateSecretVersionStages mirrors resourceSecretVersionUpdate.
func (p *cfgProvider) updateSecretVersionStages(c context.Context, id string, old, cfg []string) error {
	secretID, versionID := splitVersionID(id)
	var add, del []string
	for _, s := range cfg {
		if !slices.Contains(old, s) {
			add = append(add, s)
		}
	}
	for _, s := range old {
		if !slices.Contains(cfg, s) {
			del = append(del, s)
		}
	}
	listed := false
	for _, stage := range add {
		in := &sm.UpdateSecretVersionStageInput{MoveToVersionId: aws.String(versionID), SecretId: aws.String(secretID), VersionStage: aws.String(stage)}
		if !listed && stage == stageCurrent {
			current := ""
			pages := sm.NewListSecretVersionIdsPaginator(p.sm, &sm.ListSecretVersionIdsInput{SecretId: aws.String(secretID)})
		list:
			for pages.HasMorePages() {
				page, err := pages.NextPage(c)
				if err != nil {
					return fmt.Errorf("listing Secrets Manager Secret (%s) version IDs: %w", secretID, err)
				}
				for _, v := range page.Versions {
					if slices.Contains(v.VersionStages, stageCurrent) {
						current = aws.ToString(v.VersionId)
						break list
					}
				}
			}
			in.RemoveFromVersionId = aws.String(current)
			listed = true
		}
		if _, err := p.sm.UpdateSecretVersionStage(c, in); err != nil {
			return fmt.Errorf("adding Secrets Manager Secret Version (%s) stage (%s): %w", id, stage, err)
		}
	}
	for _, stage := range del {
		if stage == stageCurrent || listed && stage == stagePrevious {
			continue
		}
		if _, err := p.sm.UpdateSecretVersionStage(c, &sm.UpdateSecretVersionStageInput{RemoveFromVersionId: aws.String(versionID),
			SecretId: aws.String(secretID), VersionStage: aws.String(stage)}); err != nil {
			return fmt.Errorf("deleting Secrets Manager Secret Version (%s) stage (%s): %w", id, stage, err)
		}
	}
	return nil
}

// deleteSecretVersion mirrors resourceSecretVersionDelete: every stage
// but AWSCURRENT is removed, then the version counts as gone once it has
// no stage, or AWSCURRENT or AWSPREVIOUS alone.
func (p *cfgProvider) deleteSecretVersion(c context.Context, id string, stages []string) error {
	secretID, versionID := splitVersionID(id)
	for _, stage := range stages {
		if stage == stageCurrent {
			continue
		}
		_, err := p.sm.UpdateSecretVersionStage(c, &sm.UpdateSecretVersionStageInput{RemoveFromVersionId: aws.String(versionID),
			SecretId: aws.String(secretID), VersionStage: aws.String(stage)})
		var rnf *smtypes.ResourceNotFoundException
		var ire *smtypes.InvalidRequestException
		if errors.As(err, &rnf) || errors.As(err, &ire) && (strings.Contains(ire.ErrorMessage(), "because it was deleted") ||
			strings.Contains(ire.ErrorMessage(), "because it was marked for deletion")) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deleting Secrets Manager Secret Version (%s) stage (%s): %w", id, stage, err)
		}
	}
	err := retryUntilNotFound(c, propagationTimeout, func() (*sm.GetSecretValueOutput, error) {
		out, err := p.findSecretVersion(c, secretID, versionID)
		if err != nil {
			return nil, err
		}
		if s := out.VersionStages; len(s) == 0 || len(s) == 1 && (s[0] == stageCurrent || s[0] == stagePrevious) {
			return nil, errNotFound
		}
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for Secrets Manager Secret Version (%s) delete: %w", id, err)
	}
	return nil
}
