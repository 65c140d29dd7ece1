package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

// target is the server the load goes to.
type target struct {
	endpoint string
	keyID    string
	secret   string
	region   string
	// dataDir is the server's data dir when the bench can read it (its own
	// server, or --server-data-dir); empty otherwise.
	dataDir string
	// stop ends a server the bench started; nil for an external one.
	stop func() error
}

// buildBerth builds cmd/berth into dir with the go command of this toolchain.
func buildBerth(dir string) (string, error) {
	bin := filepath.Join(dir, "berth")
	cmd := exec.Command("go", "build", "-o", bin, "berth.dev/berth/cmd/berth")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build berth (run the bench from inside the berth module): %w", err)
	}
	return bin, nil
}

// startServer runs `berth server` with a fresh data dir under root and
// freshly generated root credentials, and waits until it answers.
func startServer(bin, root, region string) (*target, error) {
	dataDir, err := os.MkdirTemp(root, "berth-bench-data-")
	if err != nil {
		return nil, err
	}
	keyID := "AKIABENCH" + strings.ToUpper(harness.RandomHex(6))[:11]
	secret := harness.RandomHex(20)
	logf, err := os.Create(filepath.Join(dataDir, "server.log"))
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--region", region, "--log-level", "warn", "--dns-listen", "127.0.0.1:0", "--dns-forward", "none")
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+keyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+secret)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("start berth: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := &target{keyID: keyID, secret: secret, region: region, dataDir: dataDir}
	t.stop = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		var err error
		select {
		case err = <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			err = errors.New("berth did not stop on SIGTERM; killed")
			<-exited
		}
		logf.Close()
		os.RemoveAll(dataDir)
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logf.Name())
			os.RemoveAll(dataDir)
			return nil, fmt.Errorf("berth exited during start (%v):\n%s", err, out)
		default:
		}
		if ep := harness.ReadyEndpoint(dataDir); ep != "" {
			t.endpoint = ep
			return t, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = t.stop()
	return nil, errors.New("berth did not become ready within 60s")
}

// serverStats is what the bench reads from the server at one moment: its
// metrics (OK when read; OpSum and OpCount from
// berth_api_request_duration_seconds, CPU from process_cpu_seconds_total)
// and its raft log's transaction ID.
type serverStats struct {
	harness.MetricsSample
	// boltTx is the transaction ID of the raft log's bolt file: one per
	// raft log append (a batch of entries, one fsync'd commit).
	boltTx uint64
	hasTx  bool
}

func readServerStats(ctx context.Context, t *target) serverStats {
	var s serverStats
	if t.dataDir != "" {
		if tx, err := boltTxID(filepath.Join(t.dataDir, "raft", "raft.db")); err == nil {
			s.boltTx, s.hasTx = tx, true
		}
	}
	s.MetricsSample = harness.ReadMetricsAt(ctx, t.endpoint)
	return s
}

// boltTxID reads the transaction ID of a bolt file from its two meta pages
// without opening the database (the server holds its lock). Every write
// transaction, which raft-boltdb makes once per log append, commits with an
// fsync and increments it.
func boltTxID(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	const (
		pageHeader = 16 // id u64, flags u16, count u16, overflow u32
		metaSize   = 64 // magic, version, pageSize, flags, root(16), freelist, pgid, txid, checksum
		magic      = 0xED0CDAED
	)
	read := func(off int64) (pageSize uint32, txid uint64, ok bool) {
		b := make([]byte, pageHeader+metaSize)
		if _, err := f.ReadAt(b, off); err != nil {
			return 0, 0, false
		}
		m := b[pageHeader:]
		le := binary.LittleEndian
		if le.Uint32(m[0:4]) != magic {
			return 0, 0, false
		}
		h := fnv.New64a()
		h.Write(m[:56])
		if h.Sum64() != le.Uint64(m[56:64]) {
			return 0, 0, false
		}
		return le.Uint32(m[8:12]), le.Uint64(m[48:56]), true
	}
	ps, tx0, ok0 := read(0)
	if !ok0 {
		ps = uint32(os.Getpagesize())
	}
	_, tx1, ok1 := read(int64(ps))
	switch {
	case ok0 && ok1:
		return max(tx0, tx1), nil
	case ok0:
		return tx0, nil
	case ok1:
		return tx1, nil
	}
	return 0, errors.New("no valid bolt meta page")
}

// zfsMagic is ZFS's file system magic number, which harness.FSType does
// not name.
const zfsMagic = 0x2FC12FC1

// fsType names the file system that holds dir (Linux) as harness.FSType
// does, and also zfs, and marks tmpfs: its fsync reaches no disk.
func fsType(dir string) string {
	switch t := harness.FSType(dir); t {
	case "tmpfs":
		return "tmpfs (no real fsync)"
	case fmt.Sprintf("0x%x", zfsMagic):
		return "zfs"
	default:
		return t
	}
}
