package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "berth.dev/berth/"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
	Standard   bool
}

func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "berth.dev/berth/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// pure packages decide; they do no I/O and read no clock or randomness.
var pure = []string{"shape", "elbshape", "acmshape", "sdshape", "smshape", "sd", "apierr", "arn", "cql", "taskdef", "scheduler", "taskplan", "deploy", "ipam", "elb", "elbdoc", "lbconfig", "lbrule", "dnsconfig", "dnszone", "logsshape", "logfilter"}

// forbiddenInPure are standard packages that mean I/O, logging or randomness.
var forbiddenInPure = []string{"net", "net/http", "os", "os/exec", "log", "log/slog", "math/rand", "math/rand/v2", "crypto/rand", "syscall", "io/fs"}

func internalPath(name string) string { return module + "internal/" + name }

func TestPurePackagesImportNoIO(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range pure {
		p, ok := pkgs[internalPath(name)]
		if !ok {
			t.Fatalf("package %s not found", name)
		}
		for _, imp := range p.Imports {
			for _, bad := range forbiddenInPure {
				if imp == bad {
					t.Errorf("pure package %s imports %s", name, imp)
				}
			}
			if strings.Contains(imp, ".") && !strings.HasPrefix(imp, module) {
				t.Errorf("pure package %s imports third-party %s", name, imp)
			}
			if strings.HasPrefix(imp, module) {
				dep := strings.TrimPrefix(imp, module+"internal/")
				if !contains(pure, dep) {
					t.Errorf("pure package %s imports non-pure %s", name, imp)
				}
			}
		}
	}
}

var clockOrRand = regexp.MustCompile(`\btime\.(Now|Since|Until|Sleep|After|Tick|NewTimer|NewTicker)\(|\brand\.`)

func TestPurePackagesReadNoClock(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range pure {
		p := pkgs[internalPath(name)]
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			line := 0
			for sc.Scan() {
				line++
				text := sc.Text()
				if strings.HasPrefix(strings.TrimSpace(text), "//") {
					continue
				}
				if clockOrRand.MatchString(text) {
					t.Errorf("%s/%s:%d reads the clock or randomness: %s", name, f, line, strings.TrimSpace(text))
				}
			}
			fh.Close()
		}
	}
}

// edge is a forbidden import: from (prefix) must not import to (prefix).
type edge struct{ from, to, why string }

var forbidden = []edge{
	{module + "internal/", "github.com/hashicorp/raft", "only raftnode talks to the consensus library"},
	{module + "internal/ecsapi", module + "internal/raftnode", "the API writes through its Proposer interface"},
	{module + "internal/fsm", "net/http", "the state machine is not an HTTP component"},
	{module + "internal/state", module + "internal/fsm", "state is below fsm"},
	{module + "internal/state", module + "internal/deploy", "the reconciler's types are not the state's records"},
	{module + "internal/fsm", module + "internal/deploy", "the reconciler's types are not the persisted format; the controller converts"},
	{module + "internal/cli", module + "internal/ecsapi", "client verbs use the public API through aws-sdk-go-v2"},
	{module + "internal/cli", module + "internal/fsm", "client verbs use the public API through aws-sdk-go-v2"},
	{module + "internal/cli", module + "internal/state", "client verbs use the public API through aws-sdk-go-v2"},
	{module + "internal/cli", module + "internal/raftnode", "client verbs use the public API through aws-sdk-go-v2"},
	{module + "internal/awsproto", module + "internal/", "the protocol edge knows no service: service packages import it, never the reverse"},
	{module + "internal/acmapi", module + "internal/raftnode", "the API writes through its Proposer interface"},
	{module + "internal/sdapi", module + "internal/raftnode", "the API writes through its Proposer interface"},
	{module + "internal/secretsapi", module + "internal/raftnode", "the API writes through its Proposer interface"},
	{module + "internal/secretsapi", module + "internal/seal", "the API seals through its Sealer interface: the server chooses the key"},
	{module + "internal/ssmapi", module + "internal/raftnode", "the API writes through its Proposer interface"},
	{module + "internal/seal", module + "internal/", "secrets at rest are a leaf: every service that keeps a secret imports seal"},
	{module + "internal/taskendpoint", module + "internal/", "the task endpoint's address is a leaf: the agent, tasknet and the endpoint's servers import it"},
	{module + "internal/fsm", module + "internal/seal", "apply is deterministic: the state machine stores sealed bytes as proposed, never seals or opens them"},
	{module + "internal/state", module + "internal/seal", "the state holds sealed bytes only"},
	{module, module + "internal/e2e/inproc", "the in-process end-to-end harness is for tests only: it starts servers and agents and fails tests"},
}

func TestForbiddenImports(t *testing.T) {
	pkgs := listPackages(t)
	for path, p := range pkgs {
		for _, imp := range p.Imports {
			for _, e := range forbidden {
				if !strings.HasPrefix(path, e.from) || !strings.HasPrefix(imp, e.to) {
					continue
				}
				if e.to == "github.com/hashicorp/raft" && path == module+"internal/raftnode" {
					continue
				}
				t.Errorf("%s imports %s: %s", path, imp, e.why)
			}
		}
	}
}

// TestWireIsALeaf keeps the persisted format free of the domain types: it
// imports only the ECS shapes, the ELBv2 documents and the standard library.
func TestWireIsALeaf(t *testing.T) {
	pkgs := listPackages(t)
	p, ok := pkgs[internalPath("fsm/wire")]
	if !ok {
		t.Fatal("package fsm/wire not found")
	}
	for _, imp := range p.Imports {
		if strings.Contains(imp, ".") && imp != internalPath("shape") && imp != internalPath("elbdoc") {
			t.Errorf("fsm/wire imports %s: the persisted format depends only on shape, elbdoc and the standard library", imp)
		}
	}
}

// TestServerImportedOnlyByRoots keeps the composition root at the top: the
// CLI, and the in-process end-to-end harness, which only tests import (see
// forbidden).
func TestServerImportedOnlyByRoots(t *testing.T) {
	pkgs := listPackages(t)
	allowed := map[string]bool{module + "internal/cli": true, module + "internal/e2e/inproc": true}
	for path, p := range pkgs {
		for _, imp := range p.Imports {
			if imp == module+"internal/server" && !allowed[path] {
				t.Errorf("%s imports the server composition root", path)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
