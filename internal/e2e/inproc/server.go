package inproc

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
)

// ServerOptions configure StartServer.
type ServerOptions struct {
	Region, Account string
	// KeyID and Secret are the root's access key (the server reads them
	// from its environment).
	KeyID, Secret string
	// DataDir is the server's data dir; "" means a new temporary one.
	DataDir string
	// Logs captures the server's records (side "server"); nil captures
	// nothing.
	Logs *Logs
	// Config is the rest of the server's configuration (Deploy,
	// LBAddresses, DNSListen, ...); StartServer sets its DataDir, Listen
	// (a free port of 127.0.0.1), Region, AccountID, Getenv (the root's
	// key, nothing else) and Log from the options.
	Config server.Config
}

// StartServer starts a server in this process, closed when the test ends,
// and returns it with the configuration of its clients: the region, the
// root's static credentials and one attempt (see Endpoint for the rest).
func StartServer(t testing.TB, o ServerOptions) (*server.Server, aws.Config) {
	t.Helper()
	c := o.Config
	c.DataDir, c.Listen, c.Region, c.AccountID = o.DataDir, "127.0.0.1:0", o.Region, o.Account
	if c.DataDir == "" {
		c.DataDir = t.TempDir()
	}
	c.Getenv = func(k string) string {
		switch k {
		case server.EnvRootAccessKeyID:
			return o.KeyID
		case server.EnvRootSecretAccessKey:
			return o.Secret
		}
		return ""
	}
	c.Log = o.Logs.Logger("server")
	srv, err := server.Start(context.Background(), c)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(o.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.KeyID, o.Secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }))
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

// Endpoint is what a client's options take to reach the server: its
// endpoint and an HTTP client of the client's own (sdkhttp.New()), as in
//
//	ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint, o.HTTPClient = inproc.Endpoint(srv) })
func Endpoint(srv *server.Server) (*string, sdkhttp.Client) {
	return aws.String(srv.Endpoint()), sdkhttp.New()
}

// Ctx is a context for one call of a test: it ends after a minute, or
// with the test.
func Ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
