package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// IdentityFile in the data dir records the partition, region and account the
// data dir's state was written for. The state machine builds ARNs from
// them, so replaying the log with another identity would answer with ARNs
// other than the ones acknowledged: a server started with another identity
// refuses the data dir.
const IdentityFile = "identity.json"

type identity struct {
	Partition string `json:"partition"`
	Region    string `json:"region"`
	Account   string `json:"account"`
}

func (i identity) String() string {
	return fmt.Sprintf("partition %s, region %s, account %s", i.Partition, i.Region, i.Account)
}

// readIdentity returns the data dir's identity, or ok false when it has none.
func readIdentity(dir string) (identity, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, fmt.Errorf("read data dir identity: %w", err)
	}
	var id identity
	if err := json.Unmarshal(b, &id); err != nil || id.Partition == "" || id.Region == "" || id.Account == "" {
		return identity{}, false, fmt.Errorf("data dir identity %s is damaged: %q", filepath.Join(dir, IdentityFile), b)
	}
	return id, true, nil
}

func writeIdentity(dir string, id identity) error {
	b, _ := json.MarshalIndent(id, "", "  ") // three strings always encode
	if err := atomicfile.Write(filepath.Join(dir, IdentityFile), append(b, '\n'), 0o600, true); err != nil {
		return fmt.Errorf("write data dir identity: %w", err)
	}
	return nil
}

func mismatch(dir string, have, want identity) error {
	return fmt.Errorf("the data dir %s holds state for %s, but this server was started for %s: its ARNs would not match the ones it acknowledged; start it with --region %s --account-id %s (and partition %s), or use another data dir",
		dir, have, want, have.Region, have.Account, have.Partition)
}

// stateIdentity infers the identity of a data dir written before identity
// files existed from an ARN in its state (ok false for an empty state).
func stateIdentity(s *state.Snapshot) (identity, bool) {
	var found string
	s.Clusters("", func(c *shape.Cluster) bool {
		if c.ClusterArn != nil {
			found = *c.ClusterArn
		}
		return found == ""
	})
	if found == "" {
		return identity{}, false
	}
	a, err := arn.Parse(found)
	if err != nil {
		return identity{}, false
	}
	return identity{Partition: a.Partition, Region: a.Region, Account: a.Account}, true
}

// DataDirRegion returns the region a data dir was created for, or "" when
// it has no readable identity.
func DataDirRegion(dir string) string {
	id, ok, err := readIdentity(dir)
	if err != nil || !ok {
		return ""
	}
	return id.Region
}
