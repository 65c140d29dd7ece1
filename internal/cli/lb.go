package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/lb"
	"berth.dev/berth/internal/lbaddr"
	"berth.dev/berth/internal/lbnode"
)

// lbStateFile is where a data-plane node keeps its last configuration,
// under its data dir.
const lbStateFile = "lb-config.json"

func newLBCmd(env *Env) *cobra.Command {
	var f clientFlags
	var node, logLevel string
	cmd := &cobra.Command{
		Use:   "lb",
		Short: "Run a load-balancer data-plane node: serve the ELBv2 load balancers of a berth server",
		Long: "lb serves the application and network load balancers created through berth's\n" +
			"ELBv2 API. It receives their configuration from the server over a push\n" +
			"stream, checks the targets' health and reports it back, and keeps serving\n" +
			"with its last configuration while the server is away (kept in DATA_DIR).\n" +
			"Several nodes may serve the same load balancers. `berth dev` runs one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(env.Stderr, logLevel)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			endpoint, region, creds, err := resolveClient(env, &f)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runLBNode(ctx, log, lbNodeConfig{endpoint: endpoint, region: region, keyID: creds.AccessKeyID,
				secret: creds.SecretAccessKey, node: node, stateFile: filepath.Join(f.dataDir, lbStateFile)})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&node, "node", "", "this node's name in health reports (default: the host name)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

type lbNodeConfig struct {
	endpoint, region, keyID, secret, node, stateFile string
}

// runLBNode runs a data-plane engine and its node until ctx ends.
func runLBNode(ctx context.Context, log *slog.Logger, c lbNodeConfig) error {
	if err := os.MkdirAll(filepath.Dir(c.stateFile), 0o700); err != nil {
		return fmt.Errorf("load-balancer state dir: %w", err)
	}
	// Load-balancer addresses the host does not hold are added to it when
	// a listener binds one (needs CAP_NET_ADMIN; loopback pools need none).
	addrs := lbaddr.New(nil, "", log.With("component", "lbaddr"))
	defer func() {
		if err := addrs.Close(); err != nil {
			log.Warn("load-balancer addresses not removed", "err", err)
		}
	}()
	eng := lb.New(lb.Config{Log: log.With("component", "lb"), Node: c.node, Listen: addrs.Listen})
	defer eng.Close()
	n := lbnode.New(lbnode.Config{Server: c.endpoint, Region: c.region, AccessKeyID: c.keyID, SecretAccessKey: c.secret,
		Node: c.node, StateFile: c.stateFile, Engine: eng, Log: log})
	return n.Run(ctx)
}
