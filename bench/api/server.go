package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startServer runs `berth server` with a fresh data dir under root and
// freshly generated root credentials, and waits until it answers.
func startServer(bin, root, region string) (*target, error) {
	dataDir, err := os.MkdirTemp(root, "berth-bench-data-")
	if err != nil {
		return nil, err
	}
	keyID := "AKIABENCH" + strings.ToUpper(randomHex(6))[:11]
	secret := randomHex(20)
	logf, err := os.Create(filepath.Join(dataDir, "server.log"))
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--region", region, "--log-level", "warn")
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
		if b, err := os.ReadFile(filepath.Join(dataDir, "endpoint")); err == nil {
			ep := strings.TrimSpace(string(b))
			if resp, err := http.Get(ep + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.endpoint = ep
					return t, nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = t.stop()
	return nil, errors.New("berth did not become ready within 60s")
}

// serverStats is what the bench reads from the server at one moment.
type serverStats struct {
	ok bool
	// opSum and opCount are berth_api_request_duration_seconds sum and
	// count per operation.
	opSum   map[string]float64
	opCount map[string]float64
	cpu     float64 // process_cpu_seconds_total
	// boltTx is the transaction ID of the raft log's bolt file: one per
	// raft log append (a batch of entries, one fsync'd commit).
	boltTx uint64
	hasTx  bool
}

func readServerStats(ctx context.Context, t *target) serverStats {
	s := serverStats{opSum: map[string]float64{}, opCount: map[string]float64{}}
	if t.dataDir != "" {
		if tx, err := boltTxID(filepath.Join(t.dataDir, "raft", "raft.db")); err == nil {
			s.boltTx, s.hasTx = tx, true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint+"/metrics", nil)
	if err != nil {
		return s
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s
	}
	s.ok = parseMetrics(resp.Body, &s) == nil
	return s
}

// parseMetrics reads the few series the bench needs from Prometheus text.
func parseMetrics(r io.Reader, s *serverStats) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "process_cpu_seconds_total":
			s.cpu = v
		case strings.HasPrefix(name, "berth_api_request_duration_seconds_sum{"):
			s.opSum[label(name, "operation")] = v
		case strings.HasPrefix(name, "berth_api_request_duration_seconds_count{"):
			s.opCount[label(name, "operation")] = v
		}
	}
	return sc.Err()
}

func label(series, name string) string {
	_, rest, ok := strings.Cut(series, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
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

// fsType names the file system that holds dir (Linux).
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs (no real fsync)"
	case 0x794C7630:
		return "overlayfs"
	case 0x2FC12FC1:
		return "zfs"
	}
	return fmt.Sprintf("0x%x", uint64(st.Type))
}

// cpuModel returns the first CPU model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
