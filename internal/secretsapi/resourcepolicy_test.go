package secretsapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const rolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`

// A resource policy is stored and returned as given, deleted, and kept
// apart from the secret's other reads.
func TestResourcePolicy(t *testing.T) {
	e := newEnv(t)
	out := e.create(t, &sm.CreateSecretInput{Name: aws.String("p"), SecretString: aws.String("v")})
	got, err := e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || aws.ToString(got.ARN) != aws.ToString(out.ARN) || aws.ToString(got.Name) != "p" || got.ResourcePolicy != nil {
		t.Fatalf("no policy: %+v %v", got, err)
	}
	put, err := e.c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(rolePolicy)})
	if err != nil || aws.ToString(put.ARN) != aws.ToString(out.ARN) || aws.ToString(put.Name) != "p" {
		t.Fatalf("put: %+v %v", put, err)
	}
	got, err = e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || aws.ToString(got.ResourcePolicy) != rolePolicy {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := e.c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	got, err = e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || got.ResourcePolicy != nil {
		t.Fatalf("after delete: %+v %v", got, err)
	}
	if _, err := e.c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("p")}); err != nil {
		t.Fatalf("deleting no policy: %v", err)
	}
	// A secret scheduled for deletion answers reads, refuses changes.
	if _, err := e.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("p")}); err != nil {
		t.Fatalf("read of a deleted secret's policy: %v", err)
	}
	_, err = e.c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String(rolePolicy)})
	wantErr[*types.InvalidRequestException](t, err, "You can't perform this operation on the secret because it was marked for deletion.")
	_, err = e.c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("p")})
	wantErr[*types.InvalidRequestException](t, err, "You can't perform this operation on the secret because it was marked for deletion.")
}

func TestResourcePolicyBadInput(t *testing.T) {
	e := newEnv(t)
	e.create(t, &sm.CreateSecretInput{Name: aws.String("p"), SecretString: aws.String("v")})
	put := func(doc string, block *bool) error {
		_, err := e.c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String(doc), BlockPublicPolicy: block})
		return err
	}
	for _, doc := range []string{"{", "[]", `{"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"secretsmanager:*"}]}`} {
		wantErr[*types.MalformedPolicyDocumentException](t, put(doc, nil), "This resource policy contains a syntax error.")
	}
	wantErr[*types.InvalidParameterException](t, put("", nil), "You must provide a ResourcePolicy.")
	wantErr[*types.InvalidParameterException](t, put(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"`+strings.Repeat("x", 20480)+`"}]}`, nil),
		"The ResourcePolicy is longer than 20480 characters.")
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	wantErr[*types.PublicPolicyException](t, put(public, nil), "The BlockPublicPolicy parameter is set to true")
	wantErr[*types.PublicPolicyException](t, put(public, aws.Bool(true)), "The BlockPublicPolicy parameter is set to true")
	if err := put(public, aws.Bool(false)); err != nil {
		t.Fatalf("a public policy without BlockPublicPolicy: %v", err)
	}
	conditioned := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}]}`
	if err := put(conditioned, nil); err != nil {
		t.Fatalf("a conditioned policy: %v", err)
	}
	_, err := e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("ghost")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	_, err = e.c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("ghost"), ResourcePolicy: aws.String(rolePolicy)})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	_, err = e.c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("ghost")})
	wantErr[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret.")
	_, err = e.c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String(strings.Repeat("s", 2049))})
	wantErr[*types.InvalidParameterException](t, err, "The SecretId is longer than")
}
