//go:build linux

package process

import "sync"

// index is the driver's memory of its state directory: every container's
// record (spec.json never changes once Create wrote it) and its name.
//
// Invariants: names[r.Name] == r.ID for every r in recs, and names holds
// nothing else. Create checks and claims a name under mu, so two Creates
// of one driver never give a name twice. Names are unique per driver: one
// agent owns a state directory (a second driver on the same directory sees
// the first one's containers only when it lists them).
type index struct {
	mu    sync.Mutex
	recs  map[string]*record // by ID
	names map[string]string  // name -> ID
}

func newIndex() *index {
	return &index{recs: map[string]*record{}, names: map[string]string{}}
}

func (x *index) get(id string) *record {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.recs[id]
}

func (x *index) byName(name string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.names[name]
}

func (x *index) put(rec *record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(rec)
}

// putLocked indexes rec; a name already taken by another container keeps
// its owner (two containers of one name can only come from outside this
// driver).
func (x *index) putLocked(rec *record) {
	if old := x.recs[rec.ID]; old != nil && x.names[old.Name] == rec.ID {
		delete(x.names, old.Name)
	}
	x.recs[rec.ID] = rec
	if _, taken := x.names[rec.Name]; !taken {
		x.names[rec.Name] = rec.ID
	}
}

func (x *index) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *index) removeLocked(id string) {
	rec := x.recs[id]
	if rec == nil {
		return
	}
	delete(x.recs, id)
	if x.names[rec.Name] == id {
		delete(x.names, rec.Name)
	}
}

// retain drops the containers not in keep (removed by another driver).
func (x *index) retain(keep map[string]bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id := range x.recs {
		if !keep[id] {
			x.removeLocked(id)
		}
	}
}
