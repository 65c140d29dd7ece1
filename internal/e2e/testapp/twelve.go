package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// twelveFactor is `berth-testapp twelve-factor [flags] [-- serve flags]`:
// the twelve-factor application of the end-to-end tests. It reports, as
// one JSON line on stdout, what it finds in its environment and through
// the AWS SDK's defaults (no endpoint, region or credentials configured
// by the program): the SHA-256 of each secret named by --secret-env (never
// a value), the variables named by --env, the caller identity STS answers
// with the default credential chain, the value of the parameter named by
// --parameter read with those credentials, and its task metadata (v4 task
// and container stats). It retries until every call succeeds, then keeps
// serving as berth-testapp does with the flags after "--".
func twelveFactor(args []string) int {
	fs := flag.NewFlagSet("twelve-factor", flag.ContinueOnError)
	secretEnv := fs.String("secret-env", "", "comma-separated environment variables whose SHA-256 to report")
	plainEnv := fs.String("env", "", "comma-separated environment variables to report as they are")
	param := fs.String("parameter", "", "an SSM parameter to read with the task role")
	discover := fs.String("discover", "", "NAMESPACE/SERVICE: Cloud Map instances to discover with the task role")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	rest := fs.Args()
	go func() {
		for attempt := 1; ; attempt++ {
			rep, err := report(split(*secretEnv), split(*plainEnv), *param, *discover)
			if err == nil {
				rep.Attempts = attempt
				b, _ := json.Marshal(rep)
				fmt.Printf("%s\n", b)
				return
			}
			fmt.Printf("twelve-factor: attempt %d: %v\n", attempt, err)
			time.Sleep(2 * time.Second)
		}
	}()
	return serve(rest)
}

// twelveReport is the line twelveFactor writes.
type twelveReport struct {
	Report      string            `json:"report"` // "twelve-factor"
	Attempts    int               `json:"attempts"`
	SecretSHA   map[string]string `json:"secretSha256"`
	Env         map[string]string `json:"env"`
	Identity    string            `json:"identity"`    // STS GetCallerIdentity's Arn
	CredsSource string            `json:"credsSource"` // the provider that gave the credentials
	Parameter   string            `json:"parameter,omitempty"`
	Discovered  []string          `json:"discovered,omitempty"` // DiscoverInstances' instance IDs
	TaskARN     string            `json:"taskArn"`
	Family      string            `json:"family"`
	Containers  []string          `json:"containers"`
	MemoryUsage uint64            `json:"memoryUsage"` // container stats: memory_stats.usage
}

func report(secretEnv, plainEnv []string, param, discover string) (*twelveReport, error) {
	rep := &twelveReport{Report: "twelve-factor", SecretSHA: map[string]string{}, Env: map[string]string{}}
	for _, k := range secretEnv {
		v, ok := os.LookupEnv(k)
		if !ok {
			return nil, fmt.Errorf("secret %s is not in the environment", k)
		}
		sum := sha256.Sum256([]byte(v))
		rep.SecretSHA[k] = hex.EncodeToString(sum[:])
	}
	for _, k := range plainEnv {
		rep.Env[k] = os.Getenv(k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the SDK's default configuration: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("default credential chain: %w", err)
	}
	rep.CredsSource = creds.Source
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	rep.Identity = aws.ToString(id.Arn)
	if param != "" {
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
		if err != nil {
			return nil, fmt.Errorf("ssm GetParameter %s: %w", param, err)
		}
		rep.Parameter = aws.ToString(out.Parameter.Value)
	}
	if ns, svc, ok := strings.Cut(discover, "/"); ok {
		// The SDK sends DiscoverInstances to its endpoint's "data-" host.
		out, err := servicediscovery.NewFromConfig(cfg).DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{
			NamespaceName: aws.String(ns), ServiceName: aws.String(svc)})
		if err != nil {
			return nil, fmt.Errorf("servicediscovery DiscoverInstances %s: %w", discover, err)
		}
		for _, i := range out.Instances {
			rep.Discovered = append(rep.Discovered, aws.ToString(i.InstanceId))
		}
	}
	base := os.Getenv("ECS_CONTAINER_METADATA_URI_V4")
	if base == "" {
		return nil, errors.New("ECS_CONTAINER_METADATA_URI_V4 is not set")
	}
	var task struct {
		TaskARN    string
		Family     string
		Containers []struct{ Name string }
	}
	if err := getJSON(ctx, base+"/task", &task); err != nil {
		return nil, err
	}
	rep.TaskARN, rep.Family = task.TaskARN, task.Family
	for _, c := range task.Containers {
		rep.Containers = append(rep.Containers, c.Name)
	}
	var stats struct {
		MemoryStats struct {
			Usage uint64 `json:"usage"`
		} `json:"memory_stats"`
	}
	if err := getJSON(ctx, base+"/stats", &stats); err != nil {
		return nil, err
	}
	rep.MemoryUsage = stats.MemoryStats.Usage
	return rep, nil
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("task metadata: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("task metadata: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("task metadata %s: %s: %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("task metadata %s: %w", url, err)
	}
	return nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
