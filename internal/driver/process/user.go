//go:build linux

package process

import (
	"os/user"
	"strconv"
	"strings"
)

// credentialFor resolves a task definition's user (user, user:group, uid,
// uid:gid, user:gid, uid:group) against the host's passwd and group
// databases. An empty user runs the workload as the agent (nil credential).
// Switching to another user needs the agent to run as root.
func (d *Driver) credentialFor(spec string) (cred *credential, home string, err error) {
	if spec == "" {
		home = "/"
		if u, err := user.LookupId(strconv.Itoa(d.euid)); err == nil && u.HomeDir != "" {
			home = u.HomeDir
		}
		return nil, home, nil
	}
	name, group, hasGroup := strings.Cut(spec, ":")
	if name == "" || (hasGroup && group == "") {
		return nil, "", cannotCreate("invalid user %q", spec)
	}
	c := &credential{Home: "/"}
	var u *user.User
	if uid, err := strconv.ParseUint(name, 10, 32); err == nil {
		c.UID = uint32(uid)
		u, _ = user.LookupId(name) // a uid need not have a passwd entry
	} else {
		u, err = user.Lookup(name)
		if err != nil {
			return nil, "", cannotCreate("unable to find user %s: no matching entries in passwd file", name)
		}
	}
	if u != nil {
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.UID, c.GID = uint32(uid), uint32(gid)
		if u.HomeDir != "" {
			c.Home = u.HomeDir
		}
		if ids, err := u.GroupIds(); err == nil {
			for _, s := range ids {
				if g, err := strconv.ParseUint(s, 10, 32); err == nil {
					c.Groups = append(c.Groups, uint32(g))
				}
			}
		}
	}
	if hasGroup {
		if gid, err := strconv.ParseUint(group, 10, 32); err == nil {
			c.GID = uint32(gid)
		} else {
			g, err := user.LookupGroup(group)
			if err != nil {
				return nil, "", cannotCreate("unable to find group %s: no matching entries in group file", group)
			}
			gid, _ := strconv.ParseUint(g.Gid, 10, 32)
			c.GID = uint32(gid)
		}
	}
	if len(c.Groups) == 0 {
		c.Groups = []uint32{c.GID}
	}
	switch {
	case d.euid == 0:
		c.Switch = true
	case c.UID == uint32(d.euid) && c.GID == uint32(d.egid):
		c.Switch = false // already that user
	default:
		return nil, "", cannotCreate("user %q requested but the agent runs as uid %d, not root: the process runtime switches users only as root", spec, d.euid)
	}
	return c, c.Home, nil
}
