package fsm_test

import (
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// Every command type has an applier, and the applier decodes every version
// from 1 up to the current one: a type added to wire without a line in the
// applier table, or a version bumped without declaring the old one, fails
// here.
func TestEveryTypeHasAnApplier(t *testing.T) {
	for _, typ := range wire.Types() {
		current := currentVersion(typ)
		if current == 0 {
			t.Errorf("%s has no applier (add it to the table in appliers.go)", typ)
			continue
		}
		for v := uint8(1); v <= current; v++ {
			if err := fsm.Check(1, []byte{byte(typ), v}); err != nil {
				t.Errorf("%s version %d cannot be applied (its current version is %d): %v", typ, v, current, err)
			}
		}
		if err := fsm.Check(1, []byte{byte(typ), current + 1}); err == nil {
			t.Errorf("%s version %d, newer than the current one, is accepted", typ, current+1)
		}
	}
}
