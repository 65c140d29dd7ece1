package taskplan

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// tokens splits a script line on spaces; a double-quoted part (alone or
// after key=) is one token, unquoted.
func tokens(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, has := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && !inQuote:
			j := i + 1
			for j < len(line) && (line[j] != '"' || line[j-1] == '\\') {
				j++
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			s, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			has, i = true, j
		case unicode.IsSpace(rune(c)):
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(c)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out, nil
}

// keyVals splits key=value tokens; others are returned as positional.
func keyVals(toks []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, t := range toks {
		if k, v, ok := strings.Cut(t, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, t)
		}
	}
	return pos, kv
}

// parseContainer parses a container line of a define directive:
//
//	<name> [nonessential] [health] [start=DUR] [stop=DUR] [dep=NAME:COND ...]
func parseContainer(line string) (ContainerSpec, error) {
	toks, err := tokens(line)
	if err != nil || len(toks) == 0 {
		return ContainerSpec{}, fmt.Errorf("bad container line %q", line)
	}
	c := ContainerSpec{Name: toks[0], Essential: true}
	for _, t := range toks[1:] {
		k, v, _ := strings.Cut(t, "=")
		switch k {
		case "nonessential":
			c.Essential = false
		case "health":
			c.HealthCheck = true
		case "start":
			c.StartTimeout, err = time.ParseDuration(v)
		case "stop":
			c.StopTimeout, err = time.ParseDuration(v)
		case "dep":
			name, cond, ok := strings.Cut(v, ":")
			if !ok {
				return c, fmt.Errorf("dep %q: want NAME:CONDITION", v)
			}
			c.DependsOn = append(c.DependsOn, Dependency{Container: name, Condition: Condition(cond)})
		default:
			return c, fmt.Errorf("unknown container option %q", t)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

var (
	actionByName = map[string]ActionKind{"pull": Pull, "create": Create, "start": Start}
	completedBy  = map[string]ActionKind{"pulled": Pull, "created": Create, "started": Start}
)

// apply applies one event line to the simulated shell:
//
//	pulled|created|started NAME       the action under way succeeded
//	fail NAME pull|create|start MSG   the action under way failed
//	exited NAME code=N [reason=MSG]   a running container exited
//	healthy|unhealthy NAME            a health check result
//	desire STOPPED [code=C] [reason=R] the control plane's stop request
//	advance DUR                       time passes
//	next                              nothing happens
func (s *sim) apply(line string) error {
	toks, err := tokens(line)
	if err != nil {
		return err
	}
	pos, kv := keyVals(toks)
	if len(pos) == 0 {
		return fmt.Errorf("empty event")
	}
	arg := func(n int) (string, error) {
		if len(pos) <= n {
			return "", fmt.Errorf("%s: missing argument %d", pos[0], n)
		}
		return pos[n], nil
	}
	container := func() (int, error) {
		name, err := arg(1)
		if err != nil {
			return 0, err
		}
		return s.index(name)
	}
	switch pos[0] {
	case "pulled", "created", "started":
		i, err := container()
		if err != nil {
			return err
		}
		return s.complete(i, completedBy[pos[0]])
	case "fail":
		i, err := container()
		if err != nil {
			return err
		}
		kind, err := arg(2)
		if err != nil {
			return err
		}
		msg, err := arg(3)
		if err != nil {
			return err
		}
		k, ok := actionByName[kind]
		if !ok {
			return fmt.Errorf("fail: unknown action %q", kind)
		}
		return s.fail(i, k, msg)
	case "exited":
		i, err := container()
		if err != nil {
			return err
		}
		code, err := strconv.Atoi(kv["code"])
		if err != nil {
			return fmt.Errorf("exited: code=N: %w", err)
		}
		return s.exit(i, code, kv["reason"])
	case "healthy", "unhealthy":
		i, err := container()
		if err != nil {
			return err
		}
		h := HealthHealthy
		if pos[0] == "unhealthy" {
			h = HealthUnhealthy
		}
		return s.health(i, h)
	case "desire":
		if st, _ := arg(1); st != DesiredStopped {
			return fmt.Errorf("desire: only STOPPED")
		}
		s.desireStopped(kv["code"], kv["reason"])
		return nil
	case "advance":
		d, err := arg(1)
		if err != nil {
			return err
		}
		dur, err := time.ParseDuration(d)
		if err != nil {
			return err
		}
		s.now = s.now.Add(dur)
		return nil
	case "next":
		return nil
	}
	return fmt.Errorf("unknown event %q", pos[0])
}

// rel prints a time relative to t0.
func rel(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return "t+" + t.Sub(t0).String()
}

// format prints a decision with the shell's view of each container.
func (s *sim) format(d Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s status=%s desired=%s health=%s\n", rel(s.now), d.Status, d.Desired, d.Health)
	if len(d.Actions) > 0 {
		parts := make([]string, len(d.Actions))
		for i, a := range d.Actions {
			parts[i] = fmt.Sprintf("%s %s %s", a.Kind, s.task.Containers[a.Container].Name, a.Timeout)
		}
		fmt.Fprintf(&b, "actions: %s\n", strings.Join(parts, "; "))
	}
	for i, r := range d.Containers {
		st := s.task.States[i]
		fmt.Fprintf(&b, "  %s: %s phase=%s", s.task.Containers[i].Name, r.Status, st.Phase)
		if st.Applying != 0 {
			fmt.Fprintf(&b, " applying=%s", st.Applying)
		}
		if r.ExitCode != nil {
			fmt.Fprintf(&b, " exit=%d", *r.ExitCode)
		}
		if s.task.Containers[i].HealthCheck {
			fmt.Fprintf(&b, " health=%s", r.Health)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", r.Reason)
		}
		b.WriteByte('\n')
	}
	if d.StopCode != "" || d.StoppedReason != "" {
		fmt.Fprintf(&b, "stop: %s %q\n", d.StopCode, d.StoppedReason)
	}
	if !d.StartedAt.IsZero() {
		fmt.Fprintf(&b, "startedAt: %s\n", rel(d.StartedAt))
	}
	if !d.ExecutionStoppedAt.IsZero() {
		fmt.Fprintf(&b, "executionStoppedAt: %s\n", rel(d.ExecutionStoppedAt))
	}
	if !d.Wake.IsZero() {
		fmt.Fprintf(&b, "wake: %s\n", rel(d.Wake))
	}
	return b.String()
}
