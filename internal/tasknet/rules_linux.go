package tasknet

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netns"

	"berth.dev/berth/internal/taskendpoint"
)

// inNS runs fn on an OS thread switched into the host's namespace, for
// what has no namespace handle: the iptables binary (a child inherits its
// thread's namespace) and /proc/sys/net. The thread returns to its own
// namespace after fn; one that cannot stays locked and ends with the
// goroutine, so no other goroutine ever runs in that namespace. (Ending a
// locked thread is not enough on its own: the process's main thread is
// never ended, it would stay in the namespace and keep it alive.)
func (h *Host) inNS(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("read this thread's namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(h.ns); err != nil {
			errc <- fmt.Errorf("enter host namespace: %w", err)
			return
		}
		defer func() {
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
		}()
		errc <- fn()
	}()
	return <-errc
}

// enableForwarding sets net.ipv4.ip_forward to 1 in the current thread's
// namespace.
func enableForwarding() error {
	const path = "/proc/sys/net/ipv4/ip_forward"
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable ip_forward: %w", err)
	}
	return nil
}

// chain is one of berth's chains: where it is jumped to from and the rules
// it holds, as iptables -S prints them.
type chain struct {
	table, name, from string
	rules             [][]string
}

// chains are berth's chains for this host's config.
func (h *Host) chains() []chain {
	br := h.cfg.Bridge
	// The task endpoint's services (DNS on 53, credentials on 80), which
	// tasks reach on their own host whatever INPUT's policy is. The rules
	// are spelt as iptables -S prints them.
	ep := taskendpoint.IP + "/32"
	dns, http := strconv.Itoa(taskendpoint.DNSPort), strconv.Itoa(taskendpoint.HTTPPort)
	return []chain{
		{table: "filter", name: InputChain, from: "INPUT", rules: [][]string{
			{"-d", ep, "-i", br, "-p", "udp", "-m", "udp", "--dport", dns, "-j", "ACCEPT"},
			{"-d", ep, "-i", br, "-p", "tcp", "-m", "tcp", "--dport", dns, "-j", "ACCEPT"},
			{"-d", ep, "-i", br, "-p", "tcp", "-m", "tcp", "--dport", http, "-j", "ACCEPT"},
		}},
		{table: "filter", name: ForwardChain, from: "FORWARD", rules: [][]string{
			{"-i", br, "-j", "ACCEPT"}, // from the tasks: to each other, the peers, the world
			{"-o", br, "-j", "ACCEPT"}, // to the tasks
		}},
		{table: "nat", name: PostroutingChain, from: "POSTROUTING", rules: [][]string{
			{"-s", h.net.Subnet.String(), "!", "-d", h.net.Cluster.String(), "!", "-o", br, "-j", "MASQUERADE"},
		}},
	}
}

// ensureRules makes each chain hold exactly its rules (rewriting it when it
// holds anything else) and be jumped to exactly once, from the top of its
// parent chain when the jump is new.
func (h *Host) ensureRules() error {
	for _, c := range h.chains() {
		exists, err := h.ipt.ChainExists(c.table, c.name)
		if err != nil {
			return fmt.Errorf("iptables -t %s: %w", c.table, err)
		}
		if !exists {
			if err := h.ipt.NewChain(c.table, c.name); err != nil {
				return fmt.Errorf("iptables -t %s -N %s: %w", c.table, c.name, err)
			}
		}
		have, err := h.ipt.List(c.table, c.name)
		if err != nil {
			return fmt.Errorf("iptables -t %s -S %s: %w", c.table, c.name, err)
		}
		want := []string{"-N " + c.name}
		for _, r := range c.rules {
			want = append(want, "-A "+c.name+" "+strings.Join(r, " "))
		}
		if !slices.Equal(have, want) {
			if exists {
				h.log.Info("rewriting iptables chain", "table", c.table, "chain", c.name, "had", have[1:])
			}
			if err := h.ipt.ClearChain(c.table, c.name); err != nil {
				return fmt.Errorf("iptables -t %s -F %s: %w", c.table, c.name, err)
			}
			for _, r := range c.rules {
				if err := h.ipt.Append(c.table, c.name, r...); err != nil {
					return fmt.Errorf("iptables -t %s -A %s: %w", c.table, c.name, err)
				}
			}
		}
		if err := h.ensureJump(c); err != nil {
			return err
		}
	}
	return nil
}

func (h *Host) ensureJump(c chain) error {
	rules, err := h.ipt.List(c.table, c.from)
	if err != nil {
		return fmt.Errorf("iptables -t %s -S %s: %w", c.table, c.from, err)
	}
	jump := "-A " + c.from + " -j " + c.name
	n := 0
	for _, r := range rules {
		if r == jump {
			n++
		}
	}
	switch {
	case n == 0:
		if err := h.ipt.Insert(c.table, c.from, 1, "-j", c.name); err != nil {
			return fmt.Errorf("iptables -t %s -I %s -j %s: %w", c.table, c.from, c.name, err)
		}
	case n > 1:
		h.log.Warn("removing duplicate iptables jumps", "table", c.table, "chain", c.from, "to", c.name, "copies", n)
		for range n - 1 {
			if err := h.ipt.Delete(c.table, c.from, "-j", c.name); err != nil {
				return fmt.Errorf("iptables -t %s -D %s -j %s: %w", c.table, c.from, c.name, err)
			}
		}
	}
	return nil
}

// removeRules deletes every jump to berth's chains and the chains.
func (h *Host) removeRules() error {
	for _, c := range h.chains() {
		exists, err := h.ipt.ChainExists(c.table, c.name)
		if err != nil {
			return fmt.Errorf("iptables -t %s: %w", c.table, err)
		}
		if !exists {
			continue
		}
		for {
			ok, err := h.ipt.Exists(c.table, c.from, "-j", c.name)
			if err != nil {
				return fmt.Errorf("iptables -t %s -C %s -j %s: %w", c.table, c.from, c.name, err)
			}
			if !ok {
				break
			}
			if err := h.ipt.Delete(c.table, c.from, "-j", c.name); err != nil {
				return fmt.Errorf("iptables -t %s -D %s -j %s: %w", c.table, c.from, c.name, err)
			}
		}
		if err := h.ipt.ClearAndDeleteChain(c.table, c.name); err != nil {
			return fmt.Errorf("iptables -t %s -X %s: %w", c.table, c.name, err)
		}
	}
	return nil
}
