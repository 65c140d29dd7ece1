package cli

import (
	"fmt"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/server"
)

// serverFlags are shared by `server` and `dev`.
type serverFlags struct {
	dataDir, listen, region, account, logLevel string
}

func (f *serverFlags) register(cmd *cobra.Command, dataDir string) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", dataDir, "directory that holds berth's state")
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:4566", "address the API listens on (host:port)")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "region used in ARNs and accepted in signatures")
	cmd.Flags().StringVar(&f.account, "account-id", "000000000000", "12-digit account ID used in ARNs")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func newServerCmd(env *Env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a berth control-plane server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.dataDir == "" {
				return &exitError{code: 2, msg: "--data-dir is required"}
			}
			return runServer(cmd, env, f, false)
		},
	}
	f.register(cmd, "")
	return cmd
}

func newDevCmd(env *Env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything berth has on this machine, with state in ./.berth",
		Long: "dev starts a complete berth on one machine: the control plane with its\n" +
			"state in a local folder (./.berth by default). It prints the endpoint,\n" +
			"the credentials and examples to copy.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServer(cmd, env, f, true)
		},
	}
	f.register(cmd, ".berth")
	return cmd
}

func runServer(cmd *cobra.Command, env *Env, f serverFlags, dev bool) error {
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, server.Config{
		DataDir: f.dataDir, Listen: f.listen, Region: f.region, AccountID: f.account,
		Getenv: env.Getenv, Log: log,
	})
	if err != nil {
		return err
	}
	if dev {
		printDevBanner(env, srv, f.dataDir)
	}
	return srv.Wait(ctx)
}

func printDevBanner(env *Env, srv *server.Server, dataDir string) {
	creds, src := srv.Credentials()
	abs, _ := filepath.Abs(dataDir)
	ep := srv.Endpoint()
	w := env.Stdout
	fmt.Fprintf(w, `
berth %s is running (Ctrl-C to stop)

  endpoint     %s
  region       %s
  access key   %s
  secret key   %s
  (credentials from %s)
  state        %s

Use it with the AWS CLI:

  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s
  export AWS_REGION=%s
  aws --endpoint-url %s ecs create-cluster --cluster-name demo
  aws --endpoint-url %s ecs list-clusters

or with berth (it finds this endpoint and these credentials by itself when
run from this folder):

  berth clusters
  berth register examples/web.json
  berth task-definitions

`, version(), ep, srv.Region(), creds.AccessKeyID, creds.SecretAccessKey, src, abs,
		creds.AccessKeyID, creds.SecretAccessKey, srv.Region(), ep, ep)
}
