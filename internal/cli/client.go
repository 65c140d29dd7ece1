package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
)

// clientFlags locate the berth endpoint a client verb talks to.
type clientFlags struct {
	endpoint, region, output, dataDir string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.endpoint, "endpoint", "", "berth endpoint URL (default: $BERTH_ENDPOINT, else the one ./.berth records, else http://127.0.0.1:4566)")
	cmd.PersistentFlags().StringVar(&f.region, "region", "", "region (default: $AWS_REGION, else us-east-1)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	cmd.PersistentFlags().StringVar(&f.dataDir, "data-dir", ".berth", "data dir of a local berth dev, where credentials and the endpoint are found")
}

// resolveClient finds the endpoint, region and credentials. Region: the
// flag, else the local dev data dir's when the endpoint came from there,
// else AWS_REGION, AWS_DEFAULT_REGION, us-east-1. Credentials:
// BERTH_ROOT_* variables, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// else the local dev data dir's credentials file.
func resolveClient(env *Env, f *clientFlags) (endpoint, region string, creds aws.Credentials, err error) {
	endpoint = f.endpoint
	if endpoint == "" {
		endpoint = env.Getenv("BERTH_ENDPOINT")
	}
	local := false
	if endpoint == "" {
		if b, err := os.ReadFile(filepath.Join(f.dataDir, server.EndpointFile)); err == nil {
			endpoint = strings.TrimSpace(string(b))
			local = endpoint != ""
		}
	}
	if endpoint == "" {
		endpoint = "http://127.0.0.1:4566"
	}
	region = f.region
	if region == "" && local {
		// The local berth dev's own region: it refuses requests signed
		// for another.
		region = server.DataDirRegion(f.dataDir)
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = env.Getenv(k)
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	id, secret := env.Getenv(server.EnvRootAccessKeyID), env.Getenv(server.EnvRootSecretAccessKey)
	if id == "" || secret == "" {
		id, secret = env.Getenv("AWS_ACCESS_KEY_ID"), env.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if id == "" || secret == "" {
		c, err := server.ReadCredentials(filepath.Join(f.dataDir, server.CredentialsFile))
		if err != nil {
			return "", "", aws.Credentials{}, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY), or run from the folder of `berth dev`")
		}
		id, secret = c.AccessKeyID, c.SecretAccessKey
	}
	return endpoint, region, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: env.Getenv("AWS_SESSION_TOKEN")}, nil
}

// sdkConfig is the aws-sdk-go-v2 configuration of the berth endpoint the
// client flags locate, and that endpoint.
func sdkConfig(ctx context.Context, env *Env, f *clientFlags) (aws.Config, string, error) {
	endpoint, region, creds, err := resolveClient(env, f)
	if err != nil {
		return aws.Config{}, "", err
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)),
	)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("configure client: %w", err)
	}
	return cfg, endpoint, nil
}

// newECSClient builds an aws-sdk-go-v2 ECS client for the berth endpoint.
func newECSClient(ctx context.Context, env *Env, f *clientFlags) (*ecs.Client, error) {
	cfg, endpoint, err := sdkConfig(ctx, env, f)
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	}), nil
}

// withClient makes a command's RunE that builds the ECS client from the
// client flags, then runs run with the command's context.
func withClient(env *Env, f *clientFlags, run func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		c, err := newECSClient(ctx, env, f)
		if err != nil {
			return err
		}
		return run(ctx, c, cmd, args)
	}
}
