package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// Addresses, routes and rules that follow the node and its instances, as
// keepalived 2.2.7 does them: static_ipaddress, static_routes and
// static_rules are added when the node starts and removed when it stops
// (vrrp_daemon.c); an instance's virtual_routes and virtual_rules are
// added when it becomes MASTER and removed when it leaves MASTER (vrrp.c,
// vrrp_state_become_master and vrrp_restore_interface). An entry that is
// already in the kernel is left there and not removed later, as keepalived
// leaves what it did not add.

// ipEntry is one address, route or rule; exactly one field is set.
type ipEntry struct {
	addr  *config.StaticAddress
	route *config.Route
	rule  *config.Rule
}

func (e ipEntry) pos() config.Pos {
	switch {
	case e.addr != nil:
		return e.addr.Pos
	case e.route != nil:
		return e.route.Pos
	}
	return e.rule.Pos
}

// String describes the entry as `ip` would.
func (e ipEntry) String() string {
	var b strings.Builder
	switch {
	case e.addr != nil:
		fmt.Fprintf(&b, "address %s dev %s", e.addr.Prefix, e.addr.Dev)
	case e.route != nil:
		r := e.route
		b.WriteString("route ")
		if r.Type != config.RouteUnicast {
			b.WriteString(string(r.Type) + " ")
		}
		b.WriteString(r.Dst.String())
		if r.Via.IsValid() {
			b.WriteString(" via " + r.Via.String())
		}
		for _, nh := range r.Nexthops {
			b.WriteString(" nexthop via " + nh.String())
		}
		if r.Dev != "" {
			b.WriteString(" dev " + r.Dev)
		}
		if r.Table != 254 {
			fmt.Fprintf(&b, " table %d", r.Table)
		}
	default:
		r := e.rule
		b.WriteString("rule")
		if r.Invert {
			b.WriteString(" not")
		}
		if r.From.IsValid() {
			b.WriteString(" from " + r.From.String())
		}
		if r.To.IsValid() {
			b.WriteString(" to " + r.To.String())
		}
		fmt.Fprintf(&b, " table %d priority %d", r.Table, r.Priority)
	}
	return b.String()
}

// errIPExists is what an ipKernel returns for an entry already there.
var errIPExists = errors.New("already exists")

// ipKernel adds and removes entries in the node's network namespace.
type ipKernel interface {
	// Add returns errIPExists when the entry is already there.
	Add(e ipEntry) error
	// Del succeeds when the entry is already gone.
	Del(e ipEntry) error
	Close() error
}

// ipSet is a list of entries added and removed together.
type ipSet struct {
	name    string // for logs: "static" or the instance's
	entries []ipEntry
	added   []bool
}

func newIPSet(name string, addrs []config.StaticAddress, routes []config.Route, rules []config.Rule) *ipSet {
	s := &ipSet{name: name}
	for i := range addrs {
		s.entries = append(s.entries, ipEntry{addr: &addrs[i]})
	}
	for i := range routes {
		s.entries = append(s.entries, ipEntry{route: &routes[i]})
	}
	for i := range rules {
		s.entries = append(s.entries, ipEntry{rule: &rules[i]})
	}
	s.added = make([]bool, len(s.entries))
	return s
}

// apply adds the entries not added yet, in order. One already in the
// kernel is left as it is, with a warning. On any other error, what this
// call added is removed again and the error returned.
func (s *ipSet) apply(k ipKernel, log *slog.Logger) error {
	var now []int
	for i, e := range s.entries {
		if s.added[i] {
			continue
		}
		err := k.Add(e)
		switch {
		case errors.Is(err, errIPExists):
			log.Warn("already present: left as it is, and not removed later", "set", s.name, "entry", e.String(), "config", e.pos().String())
		case err != nil:
			for j := len(now) - 1; j >= 0; j-- {
				s.del(k, now[j], log)
			}
			return fmt.Errorf("%s: adding %s: %w", e.pos(), e, err)
		default:
			s.added[i] = true
			now = append(now, i)
			log.Info("added", "set", s.name, "entry", e.String())
		}
	}
	return nil
}

// remove removes what apply added, in reverse order; errors are logged.
func (s *ipSet) remove(k ipKernel, log *slog.Logger) {
	for i := len(s.entries) - 1; i >= 0; i-- {
		if s.added[i] {
			s.del(k, i, log)
		}
	}
}

func (s *ipSet) del(k ipKernel, i int, log *slog.Logger) {
	e := s.entries[i]
	s.added[i] = false
	if err := k.Del(e); err != nil {
		log.Error("removing", "set", s.name, "entry", e.String(), "err", err)
		return
	}
	log.Info("removed", "set", s.name, "entry", e.String())
}

// ipConfig is what the configuration puts in the kernel besides VIPs.
type ipConfig struct {
	static  *ipSet
	virtual map[string]*ipSet // by instance
}

func newIPConfig(cfg *config.Config) *ipConfig {
	c := &ipConfig{static: newIPSet("static", cfg.StaticAddresses, cfg.StaticRoutes, cfg.StaticRules), virtual: map[string]*ipSet{}}
	for i := range cfg.VRRP {
		in := &cfg.VRRP[i]
		if len(in.VirtualRoutes)+len(in.VirtualRules) > 0 {
			c.virtual[in.Name] = newIPSet(in.Name, nil, in.VirtualRoutes, in.VirtualRules)
		}
	}
	return c
}

func (c *ipConfig) empty() bool { return len(c.static.entries) == 0 && len(c.virtual) == 0 }

// transition makes an instance's virtual routes and rules follow its
// state: added on MASTER, removed on any other state.
func (c *ipConfig) transition(k ipKernel, t vrrp.Transition, log *slog.Logger) {
	s := c.virtual[t.Instance]
	if s == nil {
		return
	}
	if t.To == vrrp.StateMaster {
		if err := s.apply(k, log); err != nil {
			log.Error("virtual routes and rules not added", "instance", t.Instance, "err", err)
		}
		return
	}
	s.remove(k, log)
}

// stop removes everything: the instances' entries, then the static ones.
func (c *ipConfig) stop(k ipKernel, log *slog.Logger) {
	for _, name := range sortedKeys(c.virtual) {
		c.virtual[name].remove(k, log)
	}
	c.static.remove(k, log)
}

// sameIPConfig reports whether two configurations put the same addresses,
// routes and rules in the kernel, wherever in their files they are.
func sameIPConfig(a, b *config.Config) bool {
	strip := func(c *config.Config) []any {
		out := []any{stripPos(c.StaticAddresses), stripPos(c.StaticRoutes), stripPos(c.StaticRules)}
		for _, in := range c.VRRP {
			out = append(out, in.Name, stripPos(in.VirtualRoutes), stripPos(in.VirtualRules))
		}
		return out
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// stripPos returns a copy of xs with their Pos fields zeroed.
func stripPos[T any](xs []T) []T {
	out := make([]T, len(xs))
	for i, x := range xs {
		v := reflect.ValueOf(&x).Elem()
		if f := v.FieldByName("Pos"); f.IsValid() {
			f.Set(reflect.Zero(f.Type()))
		}
		out[i] = x
	}
	return out
}
