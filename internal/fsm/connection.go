package fsm

import (
	"berth.dev/berth/internal/fsm/wire"
	"strings"
	"time"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func applyInstanceConnection(m *Machine, tx *state.Txn, c *wire.InstanceConnection) (any, error) {
	old := tx.Instance(c.InstanceID)
	if old == nil {
		return nil, ErrInstanceNotFound(c.InstanceID)
	}
	if !c.Connected && old.Session != c.Session {
		return old, nil
	}
	if c.Connected && old.Session == c.Session && old.Shape.AgentConnected {
		return old, nil
	}
	rec := *old
	ci := *old.Shape
	ci.AgentConnected = c.Connected && deref(ci.Status) != "INACTIVE"
	ci.Version++
	rec.Shape = &ci
	rec.Session = ""
	rec.DisconnectedAt = c.Now
	if c.Connected {
		rec.Session = c.Session
		rec.DisconnectedAt = time.Time{}
	}
	return &rec, tx.Put(state.TableInstances, &rec)
}

func applyResetConnections(m *Machine, tx *state.Txn, c *wire.ResetConnections) (any, error) {
	var changed []*state.ContainerInstance
	tx.Clusters("", func(cl *shape.Cluster) bool {
		tx.Instances(deref(cl.ClusterName), "", func(ci *state.ContainerInstance) bool {
			own := c.Except != "" && strings.HasPrefix(ci.Session, c.Except)
			if (ci.Shape.AgentConnected || ci.Session != "") && !own {
				changed = append(changed, ci)
			}
			return true
		})
		return true
	})
	for _, old := range changed {
		rec := *old
		ci := *old.Shape
		ci.AgentConnected = false
		ci.Version++
		rec.Shape, rec.Session, rec.DisconnectedAt = &ci, "", c.Now
		if err := tx.Put(state.TableInstances, &rec); err != nil {
			return nil, err
		}
	}
	return len(changed), nil
}

func applyCollectGarbage(m *Machine, tx *state.Txn, c *wire.CollectGarbage) (any, error) {
	var tasks []*state.Task
	tx.Clusters("", func(cl *shape.Cluster) bool {
		tx.Tasks(deref(cl.ClusterName), "", func(t *state.Task) bool {
			if deref(t.Shape.LastStatus) == "STOPPED" && t.Shape.StoppedAt != nil && t.Shape.StoppedAt.Time().Before(c.TasksBefore) {
				tasks = append(tasks, t)
			}
			return true
		})
		return true
	})
	for _, t := range tasks {
		if err := tx.Delete(state.TableTasks, t); err != nil {
			return nil, err
		}
	}
	var tokens []*state.ClientToken
	tx.ClientTokens(func(tok *state.ClientToken) bool {
		if tok.Expires <= c.Now.Unix() {
			tokens = append(tokens, tok)
		}
		return true
	})
	for _, tok := range tokens {
		if err := tx.Delete(state.TableClientTokens, tok); err != nil {
			return nil, err
		}
	}
	// Revisions whose deletion waited for their last task go now.
	var defs []*state.TaskDefinition
	tx.TaskDefinitions("", "", false, func(td *state.TaskDefinition) bool {
		if td.Def.Status == shape.TaskDefinitionStatusDeleteInProgress && !referenced(tx, deref(td.Def.TaskDefinitionArn), c.ServicesUse()) {
			defs = append(defs, td)
		}
		return true
	})
	for _, td := range defs {
		if err := tx.Delete(state.TableTaskDefinitions, td); err != nil {
			return nil, err
		}
	}
	return len(tasks), nil
}
