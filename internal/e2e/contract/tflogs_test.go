package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// The provider's internal/service/logs/group.go, its tags through
// ListTagsForResource, TagResource and UntagResource by the group's ARN
// (without the :* suffix).

// logGroupConfig is an aws_cloudwatch_log_group's arguments
// (log_group_class's default is STANDARD).
type logGroupConfig struct {
	name            string
	retentionInDays int32
	tags            map[string]string
}

// createLogGroup mirrors resourceGroupCreate.
func (p *cfgProvider) createLogGroup(c context.Context, cfg logGroupConfig) error {
	if _, err := p.logs.CreateLogGroup(c, &cloudwatchlogs.CreateLogGroupInput{LogGroupClass: logstypes.LogGroupClassStandard,
		LogGroupName: aws.String(cfg.name), Tags: cfg.tags}); err != nil {
		return fmt.Errorf("creating CloudWatch Logs Log Group (%s): %w", cfg.name, err)
	}
	if cfg.retentionInDays != 0 {
		return p.putRetention(c, cfg.name, cfg.retentionInDays)
	}
	return nil
}

func (p *cfgProvider) putRetention(c context.Context, name string, days int32) error {
	_, err := retryValue(c, propagationTimeout, func() (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
		return p.logs.PutRetentionPolicy(c, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(name), RetentionInDays: aws.Int32(days)})
	}, func(err error) bool {
		return isCode(err, "AccessDeniedException") && errContains(err, "no identity-based policy allows the logs:PutRetentionPolicy action")
	})
	if err != nil {
		return fmt.Errorf("setting CloudWatch Logs Log Group (%s) retention policy: %w", name, err)
	}
	return nil
}

// findLogGroup mirrors findLogGroupByName: DescribeLogGroups by prefix,
// every page, the group of exactly that name.
func (p *cfgProvider) findLogGroup(c context.Context, name string) (*logstypes.LogGroup, error) {
	pages := cloudwatchlogs.NewDescribeLogGroupsPaginator(p.logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(c)
		if err != nil {
			return nil, err
		}
		for _, g := range page.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return &g, nil
			}
		}
	}
	return nil, errNotFound
}

// readLogGroup mirrors resourceGroupRead and the tags' read (nil:
// removed from the state).
func (p *cfgProvider) readLogGroup(c context.Context, name string) (map[string]any, error) {
	g, err := p.findLogGroup(c, name)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CloudWatch Logs Log Group (%s): %w", name, err)
	}
	arn := strings.TrimSuffix(aws.ToString(g.Arn), ":*")
	st := map[string]any{"arn": arn, "kms_key_id": aws.ToString(g.KmsKeyId), "log_group_class": string(g.LogGroupClass),
		"name": aws.ToString(g.LogGroupName), "retention_in_days": aws.ToInt32(g.RetentionInDays)}
	tags, err := p.logs.ListTagsForResource(c, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("listing tags for CloudWatch Logs Log Group (%s): %w", arn, err)
	}
	tm := map[string]string{}
	for k, v := range tags.Tags {
		tm[k] = v
	}
	st["tags"] = tm
	return st, nil
}

// updateLogGroup mirrors resourceGroupUpdate (retention) and the tags'
// update by ARN.
func (p *cfgProvider) updateLogGroup(c context.Context, arn string, old, cfg logGroupConfig) error {
	if old.retentionInDays != cfg.retentionInDays {
		if cfg.retentionInDays != 0 {
			if err := p.putRetention(c, cfg.name, cfg.retentionInDays); err != nil {
				return err
			}
		} else if _, err := p.logs.DeleteRetentionPolicy(c, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(cfg.name)}); err != nil {
			return fmt.Errorf("deleting CloudWatch Logs Log Group (%s) retention policy: %w", cfg.name, err)
		}
	}
	removed, changed := tagChanges(old.tags, cfg.tags)
	if len(removed) > 0 {
		if _, err := p.logs.UntagResource(c, &cloudwatchlogs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: removed}); err != nil {
			return fmt.Errorf("untagging resource (%s): %w", arn, err)
		}
	}
	if len(changed) > 0 {
		if _, err := p.logs.TagResource(c, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: changed}); err != nil {
			return fmt.Errorf("tagging resource (%s): %w", arn, err)
		}
	}
	return nil
}

// deleteLogGroup mirrors resourceGroupDelete: DeleteLogGroup, retried on
// OperationAbortedException "try again"; ResourceNotFoundException is
// done.
func (p *cfgProvider) deleteLogGroup(c context.Context, name string) error {
	_, err := retryValue(c, propagationTimeout, func() (*cloudwatchlogs.DeleteLogGroupOutput, error) {
		return p.logs.DeleteLogGroup(c, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
	}, func(err error) bool { return isCode(err, "OperationAbortedException") && errContains(err, "try again") })
	var rnf *logstypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting CloudWatch Logs Log Group (%s): %w", name, err)
	}
	return nil
}
