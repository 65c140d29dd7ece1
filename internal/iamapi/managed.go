package iamapi

import (
	"crypto/sha256"
	"time"
)

// awsPolicy is one of the AWS managed policies berth serves: readable
// with GetPolicy, GetPolicyVersion and ListPolicies, attachable, never
// changed. Its document is berth's copy of the version in effect.
type awsPolicy struct {
	Path, Name, Description, Document string
}

// awsManagedCreated is the creation date berth gives AWS managed policies.
var awsManagedCreated = time.Date(2017, 11, 16, 18, 48, 22, 0, time.UTC)

// awsPolicies are the AWS managed policies berth serves, by name. Other
// AWS managed policy ARNs can be attached and detached (berth cannot
// know every AWS managed policy) but are not readable.
var awsPolicies = map[string]awsPolicy{
	"AmazonECSTaskExecutionRolePolicy": {Path: "/service-role/", Name: "AmazonECSTaskExecutionRolePolicy",
		Description: "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability",` +
			`"ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`},
	"AdministratorAccess": {Path: "/", Name: "AdministratorAccess", Description: "Provides full access to AWS services and resources.",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	"AmazonSSMReadOnlyAccess": {Path: "/", Name: "AmazonSSMReadOnlyAccess", Description: "Provides read only access to Amazon SSM.",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}`},
	"AmazonS3ReadOnlyAccess": {Path: "/", Name: "AmazonS3ReadOnlyAccess", Description: "Provides read only access to all buckets via the AWS Management Console.",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`},
}

// awsPolicyVersion is the version ID of every served AWS managed policy.
const awsPolicyVersion = "v1"

// id is a stable policy ID for an AWS managed policy (ANPA and 17
// upper-case letters and digits derived from its name).
func (p awsPolicy) id() string {
	sum := sha256.Sum256([]byte(p.Name))
	b := make([]byte, 17)
	for i := range b {
		b[i] = upperAlnum[int(sum[i])%len(upperAlnum)]
	}
	return "ANPA" + string(b)
}
