package nat

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Switch toggles the DNAT rules of one Config. Its methods are safe for
// concurrent use; calls are serialized. Calls from several processes are not
// serialized: a program that may run concurrently with itself (a notify
// program) must take a lock of its own, as examples/natswitch does.
type Switch struct {
	mu     sync.Mutex
	cfg    Config
	conn   *nftables.Conn
	closed bool
}

// Open validates cfg, finds the node's own addresses on cfg.Interface where
// they are not given, and checks that nftables answers, all in the network
// namespace cfg.NetNS. It changes nothing. Errors name the offending field
// and value; an nftables that does not answer (no nf_tables in the kernel, no
// CAP_NET_ADMIN) is reported as "nftables unavailable".
func Open(cfg *Config) (*Switch, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if err := resolveLocal(&c); err != nil {
		return nil, err
	}
	conn, err := nftables.New(nftables.WithNetNSFd(c.NetNS))
	if err != nil {
		return nil, fmt.Errorf("nat: nftables unavailable: %w", err)
	}
	// A lookup of the switch's own table proves that nftables answers; a
	// missing table is a fine answer.
	fam := familyOf(c.VIPs[0])
	if _, err := conn.ListTableOfFamily(c.Table, fam); err != nil && !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("nat: nftables unavailable: looking up table %s %s: %w", famName(fam), c.Table, err)
	}
	return newSwitch(c, conn), nil
}

// newSwitch wraps an nftables connection for a validated, resolved config.
func newSwitch(cfg Config, conn *nftables.Conn) *Switch {
	return &Switch{cfg: cfg, conn: conn}
}

// Wanted returns the rules that Backup installs: one per VIP, in VIP order.
func (s *Switch) Wanted() []Rule { return wantRules(s.cfg) }

// Backup makes the switch's rules present: exactly one rule per VIP,
// `iifname IF ip daddr VIP dnat to LOCAL`, in the switch's table and chain,
// which it creates if needed. Rules for the switch's VIPs that differ
// (another interface or target, a duplicate) are replaced. It is idempotent:
// when the rules are in place it sends nothing. All changes go in one atomic
// nftables batch.
func (s *Switch) Backup() error { return s.apply(true) }

// Master removes the switch's rules for its VIPs, in one atomic batch. It
// leaves the table and chain in place (see Cleanup) and is idempotent.
func (s *Switch) Master() error { return s.apply(false) }

// Installed lists the rules found in the switch's chain in the "ip" and
// "ip6" tables, including rules for other VIPs written by other switches
// sharing the table. Rules of any other form are not listed.
func (s *Switch) Installed() ([]Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	var rules []Rule
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		have, err := s.read(fam)
		if err != nil {
			return nil, err
		}
		for _, h := range have {
			if h.Known {
				rules = append(rules, h.Rule)
			}
		}
	}
	return rules, nil
}

// Cleanup deletes the switch's tables ("ip" and "ip6" families) with
// everything in them, including rules of other switches sharing the table.
// Tables that do not exist are skipped.
func (s *Switch) Cleanup() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	queued := false
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		ok, err := s.tableExists(fam)
		if err != nil {
			return err
		}
		if ok {
			s.conn.DelTable(s.table(fam))
			queued = true
		}
	}
	if !queued {
		return nil
	}
	if err := s.conn.Flush(); err != nil {
		return fmt.Errorf("nat: deleting table %s: %w", s.cfg.Table, err)
	}
	return nil
}

// Close releases the switch. The rules stay as they are.
func (s *Switch) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

var errClosed = errors.New("nat: switch is closed")

// attempts bounds the retries when another program changed the chain between
// reading it and writing the batch (the batch then fails as a whole).
const attempts = 3

func (s *Switch) apply(backup bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	var err error
	for range attempts {
		err = s.applyOnce(backup)
		if err == nil || !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return err
}

func (s *Switch) applyOnce(backup bool) error {
	type step struct {
		fam nftables.TableFamily
		c   change
	}
	var steps []step
	// Read every family before queuing anything, so that a failed read
	// leaves no half-built batch behind.
	for _, fam := range s.families() {
		have, err := s.read(fam)
		if err != nil {
			return err
		}
		var vips []netip.Addr
		var want []Rule
		for _, v := range s.cfg.VIPs {
			if familyOf(v) == fam {
				vips = append(vips, v)
			}
		}
		if backup {
			for _, r := range wantRules(s.cfg) {
				if familyOf(r.VIP) == fam {
					want = append(want, r)
				}
			}
		}
		if c := plan(vips, want, have); !c.empty() {
			steps = append(steps, step{fam, c})
		}
	}
	if len(steps) == 0 {
		return nil
	}
	for _, st := range steps {
		t, ch := s.table(st.fam), s.chain(st.fam)
		if len(st.c.Add) > 0 {
			// Without NLM_F_EXCL these create the table and chain, or leave
			// them as they are.
			s.conn.AddTable(t)
			s.conn.AddChain(ch)
		}
		for _, h := range st.c.Delete {
			if err := s.conn.DelRule(&nftables.Rule{Table: t, Chain: ch, Handle: h}); err != nil {
				return err // only for handle 0, which the kernel never reports
			}
		}
		for _, r := range st.c.Add {
			s.conn.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: encodeRule(r)})
		}
	}
	if err := s.conn.Flush(); err != nil {
		op := "removing"
		if backup {
			op = "installing"
		}
		return fmt.Errorf("nat: %s rules in table %s chain %s: %w", op, s.cfg.Table, s.cfg.Chain, err)
	}
	return nil
}

// families lists the table families the switch's VIPs need, IPv4 first.
func (s *Switch) families() []nftables.TableFamily {
	var fams []nftables.TableFamily
	for _, v := range s.cfg.VIPs {
		if f := familyOf(v); !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	slices.Sort(fams)
	return fams
}

func (s *Switch) table(fam nftables.TableFamily) *nftables.Table {
	return &nftables.Table{Name: s.cfg.Table, Family: fam}
}

func (s *Switch) chain(fam nftables.TableFamily) *nftables.Chain {
	return &nftables.Chain{
		Name:     s.cfg.Chain,
		Table:    s.table(fam),
		Type:     nftables.ChainTypeNAT,
		Hooknum:  nftables.ChainHookPrerouting,
		Priority: nftables.ChainPriorityNATDest,
	}
}

// read lists the rules in the switch's chain of family fam. A missing table
// or chain reads as empty.
func (s *Switch) read(fam nftables.TableFamily) ([]installed, error) {
	rules, err := s.conn.GetRules(s.table(fam), s.chain(fam))
	if err != nil {
		// GetRules does not keep the errno; find out whether the table or
		// chain is merely missing.
		ok, err2 := s.chainExists(fam)
		if err2 != nil {
			return nil, err2
		}
		if !ok {
			return nil, nil
		}
		return nil, fmt.Errorf("nat: listing table %s %s chain %s: %w", famName(fam), s.cfg.Table, s.cfg.Chain, err)
	}
	have := make([]installed, 0, len(rules))
	for _, r := range rules {
		rule, ok := decodeRule(fam, r.Exprs)
		have = append(have, installed{Handle: r.Handle, Rule: rule, Known: ok})
	}
	return have, nil
}

func (s *Switch) tableExists(fam nftables.TableFamily) (bool, error) {
	_, err := s.conn.ListTableOfFamily(s.cfg.Table, fam)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("nat: looking up table %s %s: %w", famName(fam), s.cfg.Table, err)
}

func (s *Switch) chainExists(fam nftables.TableFamily) (bool, error) {
	return s.chainNamed(fam, s.cfg.Chain)
}

// chainNamed reports whether the switch's table of family fam holds a
// chain called name.
func (s *Switch) chainNamed(fam nftables.TableFamily, name string) (bool, error) {
	ok, err := s.tableExists(fam)
	if err != nil || !ok {
		return false, err
	}
	chains, err := s.conn.ListChainsOfTableFamily(fam)
	if err != nil {
		return false, fmt.Errorf("nat: listing chains of family %s: %w", famName(fam), err)
	}
	for _, c := range chains {
		if c.Table != nil && c.Table.Name == s.cfg.Table && c.Name == name {
			return true, nil
		}
	}
	return false, nil
}

func famName(fam nftables.TableFamily) string {
	switch fam {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	}
	return fmt.Sprintf("family(%d)", fam)
}
