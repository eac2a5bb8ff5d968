package nat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// VIPFilter keeps keepalived's firewall for VRRP instances without accept
// mode (RFC 5798's Accept_Mode false): while such an instance holds its
// VIPs, the node neither accepts nor sends packets with them. It builds the
// tables keepalived 2.2.7 builds (vrrp_nftables.c), with the same names,
// hooks, priorities, sets and rules, so that `nft list ruleset` reads the
// same:
//
//	table ip keepalived {
//		set vips { type ipv4_addr; }
//		chain out { type filter hook output priority filter - 1; policy accept;
//			ip saddr @vips drop }
//		chain in { type filter hook input priority filter - 1; policy accept;
//			ip daddr @vips drop }
//	}
//	table ip6 keepalived {
//		set vips { type ipv6_addr; }
//		set neighbor-discovery { type icmpv6_type; flags constant;
//			elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//		set vips_link_local { type ipv6_addr . iface_index; }
//		chain out { ...; icmpv6 type @neighbor-discovery accept
//			ip6 saddr fe80::/10 goto out_link_local
//			ip6 saddr @vips drop }
//		chain in { ...; icmpv6 type @neighbor-discovery accept
//			ip6 daddr fe80::/10 goto in_link_local
//			ip6 daddr @vips drop }
//		chain in_link_local { ip6 daddr . iif @vips_link_local drop }
//		chain out_link_local { ip6 saddr . oif @vips_link_local drop }
//	}
//
// For VMAC interfaces (SetVMACs) it adds, as keepalived does, a map
// vmac_map (VMAC to base interface) and rules at the head of chain out
// that send IGMP and MLDv2 reports out of the base interface instead, and
// drop IPv6 router solicitations from the VMAC (set vmac_set):
//
//	ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop
//	icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop
//	icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop
//
// As keepalived, it creates a family's table when that family first needs
// it (replacing the tables of that name left by a process that was
// killed), keeps it while running even when its sets are empty, and
// deletes both tables at Close. Its methods are safe for concurrent use.
type VIPFilter struct {
	mu      sync.Mutex
	cfg     VIPFilterConfig
	conn    *nftables.Conn
	cleaned bool // leftover tables deleted
	v4, v6  *filterFamily
	// vips and vmacs are what SetVIPs and SetVMACs were last given.
	vips   []FilteredVIP
	vmacs  []FilteredVMAC
	closed bool
}

// filterFamily is one family's table as installed.
type filterFamily struct {
	table    *nftables.Table
	out, in  *nftables.Chain
	vips     *nftables.Set // nil until a VIP of the family is filtered
	ll       *nftables.Set // ip6 vips_link_local; nil until needed
	vmacMap  *nftables.Set // nil until a VMAC of the family is given
	vmacSet  *nftables.Set // ip6 vmac_set
	have     map[netip.Addr]bool
	haveLL   map[llKey]bool
	haveVMAC map[[2]uint32]bool // VMAC index, base index
	inLL     *nftables.Chain
	outLL    *nftables.Chain
	counters bool
}

type llKey struct {
	addr    netip.Addr
	ifindex uint32
}

// OpenVIPFilter validates cfg (nil means defaults) and connects to
// nftables; nothing is installed until SetVIPs or SetVMACs needs it.
func OpenVIPFilter(cfg *VIPFilterConfig) (*VIPFilter, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	conn, err := nftables.New(nftables.WithNetNSFd(c.NetNS))
	if err != nil {
		return nil, fmt.Errorf("nat: nftables unavailable: %w", err)
	}
	return &VIPFilter{cfg: c, conn: conn}, nil
}

// SetVIPs makes the filtered addresses exactly vips, in one atomic batch
// that also creates what a family needs the first time. Errors name the
// address, interface or table that failed; on error nothing changed.
func (f *VIPFilter) SetVIPs(vips []FilteredVIP) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errVIPFilterClosed
	}
	if err := f.sync(vips, f.vmacs); err != nil {
		return err
	}
	f.vips = slices.Clone(vips)
	return nil
}

// SetVMACs makes the VMAC interfaces whose reports are moved exactly
// vmacs, in one atomic batch, as SetVIPs.
func (f *VIPFilter) SetVMACs(vmacs []FilteredVMAC) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errVIPFilterClosed
	}
	if err := f.sync(f.vips, vmacs); err != nil {
		return err
	}
	f.vmacs = slices.Clone(vmacs)
	return nil
}

// sync makes the kernel hold vips and vmacs.
func (f *VIPFilter) sync(vips []FilteredVIP, vmacs []FilteredVMAC) error {
	sets, err := splitVIPs(vips)
	if err != nil {
		return err
	}
	var names []string
	for _, v := range sets.ll {
		names = append(names, v.Interface)
	}
	for _, v := range vmacs {
		names = append(names, v.Interface, v.Base)
	}
	idx, err := f.ifindexes(names)
	if err != nil {
		return err
	}
	ll := map[llKey]bool{}
	for _, v := range sets.ll {
		ll[llKey{v.Addr, idx[v.Interface]}] = true
	}
	want4, want6 := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, a := range sets.v4 {
		want4[a] = true
	}
	for _, a := range sets.v6 {
		want6[a] = true
	}
	vm4, vm6 := map[[2]uint32]bool{}, map[[2]uint32]bool{}
	for _, v := range vmacs {
		k := [2]uint32{idx[v.Interface], idx[v.Base]}
		if v.IPv6 {
			vm6[k] = true
		} else {
			vm4[k] = true
		}
	}

	// The families are set up on copies, kept if the batch is applied.
	var v4, v6 *filterFamily
	if f.v4 != nil {
		c := *f.v4
		v4 = &c
	}
	if f.v6 != nil {
		c := *f.v6
		v6 = &c
	}
	cleaned := f.cleaned
	need4 := len(want4) > 0 || len(vm4) > 0
	need6 := len(want6) > 0 || len(ll) > 0 || len(vm6) > 0
	if !cleaned && (need4 && v4 == nil || need6 && v6 == nil) {
		for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
			t := &nftables.Table{Name: f.cfg.Table, Family: fam}
			f.conn.AddTable(t)
			f.conn.DelTable(t)
		}
		cleaned = true
	}
	queued := false
	if need4 && v4 == nil {
		v4, queued = f.setupTable(nftables.TableFamilyIPv4), true
	}
	if need6 && v6 == nil {
		v6, queued = f.setupTable(nftables.TableFamilyIPv6), true
	}
	// VMACs first: keepalived adds them when it creates the interfaces,
	// before any instance holds its VIPs.
	if len(vm4) > 0 && v4.vmacMap == nil {
		f.setupIGMP(v4)
		queued = true
	}
	if len(vm6) > 0 && v6.vmacMap == nil {
		f.setupIGMP(v6)
		queued = true
	}
	if len(want4) > 0 && v4.vips == nil {
		f.setupVIPs4(v4)
		queued = true
	}
	if (len(want6) > 0 || len(ll) > 0) && v6.vips == nil {
		f.setupVIPs6(v6)
		queued = true
	}
	if len(ll) > 0 && v6.ll == nil {
		f.setupLinkLocal(v6)
		queued = true
	}
	ops := 0
	for _, u := range []struct {
		fam  *filterFamily
		want map[netip.Addr]bool
		ll   map[llKey]bool
		vmac map[[2]uint32]bool
	}{{v4, want4, nil, vm4}, {v6, want6, ll, vm6}} {
		if u.fam == nil {
			continue
		}
		n, err := f.update(u.fam, u.want, u.ll, u.vmac)
		if err != nil {
			f.discard()
			return err
		}
		ops += n
	}
	if ops == 0 && !queued {
		return nil
	}
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("nat: updating tables ip and ip6 %s: %w", f.cfg.Table, err)
	}
	if v4 != nil {
		v4.have, v4.haveVMAC = want4, vm4
	}
	if v6 != nil {
		v6.have, v6.haveLL, v6.haveVMAC = want6, ll, vm6
	}
	f.v4, f.v6, f.cleaned = v4, v6, cleaned
	return nil
}

// update queues the element changes that make fam's sets hold want,
// wantLL and wantVMAC, and returns how many it queued.
func (f *VIPFilter) update(fam *filterFamily, want map[netip.Addr]bool, wantLL map[llKey]bool, wantVMAC map[[2]uint32]bool) (int, error) {
	var add, del []nftables.SetElement
	for a := range want {
		if !fam.have[a] {
			add = append(add, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	for a := range fam.have {
		if !want[a] {
			del = append(del, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	var addLL, delLL []nftables.SetElement
	for k := range wantLL {
		if !fam.haveLL[k] {
			addLL = append(addLL, nftables.SetElement{Key: k.key()})
		}
	}
	for k := range fam.haveLL {
		if !wantLL[k] {
			delLL = append(delLL, nftables.SetElement{Key: k.key()})
		}
	}
	var addMap, delMap, addVSet, delVSet []nftables.SetElement
	for k := range wantVMAC {
		if !fam.haveVMAC[k] {
			addMap = append(addMap, nftables.SetElement{Key: ifindexBytes(k[0]), Val: ifindexBytes(k[1])})
			addVSet = append(addVSet, nftables.SetElement{Key: ifindexBytes(k[0])})
		}
	}
	for k := range fam.haveVMAC {
		if !wantVMAC[k] {
			delMap = append(delMap, nftables.SetElement{Key: ifindexBytes(k[0]), Val: ifindexBytes(k[1])})
			delVSet = append(delVSet, nftables.SetElement{Key: ifindexBytes(k[0])})
		}
	}
	if fam.vmacSet == nil {
		addVSet, delVSet = nil, nil
	}
	for _, op := range []struct {
		set  *nftables.Set
		els  []nftables.SetElement
		add  bool
		what string
	}{{fam.vips, del, false, "removing from"}, {fam.ll, delLL, false, "removing from"},
		{fam.vmacMap, delMap, false, "removing from"}, {fam.vmacSet, delVSet, false, "removing from"},
		{fam.vmacMap, addMap, true, "adding to"}, {fam.vmacSet, addVSet, true, "adding to"},
		{fam.vips, add, true, "adding to"}, {fam.ll, addLL, true, "adding to"}} {
		if len(op.els) == 0 {
			continue
		}
		var err error
		if op.add {
			err = f.conn.SetAddElements(op.set, op.els)
		} else {
			err = f.conn.SetDeleteElements(op.set, op.els)
		}
		if err != nil {
			return 0, fmt.Errorf("nat: %s set %s of table %s %s: %w", op.what, op.set.Name, familyName(fam.table.Family), f.cfg.Table, err)
		}
	}
	return len(add) + len(del) + len(addLL) + len(delLL) + len(addMap) + len(delMap), nil
}

func ifindexBytes(i uint32) []byte { return binary.NativeEndian.AppendUint32(nil, i) }

// key is the element of vips_link_local: the address, then the interface
// index in host order.
func (k llKey) key() []byte {
	b := k.addr.AsSlice()
	return binary.NativeEndian.AppendUint32(b, k.ifindex)
}

func familyName(fam nftables.TableFamily) string {
	if fam == nftables.TableFamilyIPv6 {
		return "ip6"
	}
	return "ip"
}

// ifindexes looks up the indexes of the named interfaces.
func (f *VIPFilter) ifindexes(names []string) (map[string]uint32, error) {
	out := map[string]uint32{}
	if len(names) == 0 {
		return out, nil
	}
	var h *netlink.Handle
	var err error
	if f.cfg.NetNS > 0 {
		h, err = netlink.NewHandleAt(netns.NsHandle(f.cfg.NetNS), unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("nat: opening rtnetlink: %w", err)
	}
	defer h.Close()
	for _, name := range names {
		if _, ok := out[name]; ok {
			continue
		}
		if err := validInterface(name); err != nil {
			return nil, err
		}
		l, err := h.LinkByName(name)
		if err != nil {
			return nil, fmt.Errorf("nat: interface %q: %w", name, err)
		}
		out[name] = uint32(l.Attrs().Index)
	}
	return out, nil
}

func (f *VIPFilter) baseChain(t *nftables.Table, name string, hook *nftables.ChainHook) *nftables.Chain {
	accept := nftables.ChainPolicyAccept
	return f.conn.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: hook, Priority: nftables.ChainPriorityRef(nftables.ChainPriority(f.cfg.Priority)), Policy: &accept})
}

// setupTable queues a family's table and its chain out (nft_setup_ipv4,
// nft_setup_ipv6).
func (f *VIPFilter) setupTable(family nftables.TableFamily) *filterFamily {
	t := f.conn.AddTable(&nftables.Table{Name: f.cfg.Table, Family: family})
	return &filterFamily{table: t, out: f.baseChain(t, "out", nftables.ChainHookOutput), counters: f.cfg.Counters}
}

// setupVIPs4 queues chain in, set vips and the two rules of table ip
// (nft_setup_ipv4_vips).
func (f *VIPFilter) setupVIPs4(fam *filterFamily) {
	t := fam.table
	fam.in = f.baseChain(t, "in", nftables.ChainHookInput)
	vips := &nftables.Set{Table: t, Name: "vips", KeyType: nftables.TypeIPAddr}
	_ = f.conn.AddSet(vips, nil) // an empty set of a fixed type cannot fail to encode
	fam.vips = vips
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.in, Exprs: fam.lookupRule(16, 4, vips, expr.VerdictDrop, "")})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.lookupRule(12, 4, vips, expr.VerdictDrop, "")})
}

// setupVIPs6 queues what table ip6 needs for VIPs (nft_setup_ipv6_vips).
func (f *VIPFilter) setupVIPs6(fam *filterFamily) {
	t := fam.table
	fam.in = f.baseChain(t, "in", nftables.ChainHookInput)
	fam.inLL = f.conn.AddChain(&nftables.Chain{Name: "in_link_local", Table: t})
	fam.outLL = f.conn.AddChain(&nftables.Chain{Name: "out_link_local", Table: t})
	vips := &nftables.Set{Table: t, Name: "vips", KeyType: nftables.TypeIP6Addr}
	_ = f.conn.AddSet(vips, nil)
	fam.vips = vips
	nd := &nftables.Set{Table: t, Name: "neighbor-discovery", KeyType: nftables.TypeICMP6Type, Constant: true}
	_ = f.conn.AddSet(nd, []nftables.SetElement{{Key: []byte{135}}, {Key: []byte{136}}}) // nd-neighbor-solicit, -advert
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.in, Exprs: fam.icmpv6Rule(nd)})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.in, Exprs: fam.linkLocalGoto(24, "in_link_local")})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.icmpv6Rule(nd)})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.linkLocalGoto(8, "out_link_local")})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.in, Exprs: fam.lookupRule(24, 16, vips, expr.VerdictDrop, "")})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.lookupRule(8, 16, vips, expr.VerdictDrop, "")})
}

// metaKeyOIFKIND is NFT_META_OIFKIND, which the nftables package does not
// name.
const metaKeyOIFKIND expr.MetaKey = 27

// setupIGMP queues map vmac_map (and, for ip6, set vmac_set) and the rules
// that move the VMACs' reports to their base interfaces (nft_setup_igmp,
// setup_rule_move_igmp, setup_rule_drop_router_solicit):
//
//	[ payload load 1b @ network header + 9 => reg 1 ]     (ip: protocol igmp)
//	[ cmp eq reg 1 0x02 ]
//	[ payload load 4b @ network header + 16 => reg 1 ]
//	  (ip6: meta l4proto icmpv6, icmpv6 type 143, 16b @ network header + 24)
//	[ meta load oifkind => reg 2 ]
//	[ cmp eq reg 2 "macvlan" ]
//	[ meta load oif => reg 2 ]
//	[ lookup reg 2 set vmac_map dreg 2 ]
//	[ dup sreg_addr 1 sreg_dev 2 ]
//	[ immediate reg 0 drop ]
func (f *VIPFilter) setupIGMP(fam *filterFamily) {
	t := fam.table
	// The interface indexes are in host order, which the set says for nft.
	m := &nftables.Set{Table: t, Name: "vmac_map", KeyType: nftables.TypeIFIndex, DataType: nftables.TypeIFIndex, IsMap: true,
		KeyByteOrder: binaryutil.NativeEndian}
	_ = f.conn.AddSet(m, nil)
	fam.vmacMap = m
	ip6 := t.Family == nftables.TableFamilyIPv6
	if ip6 {
		s := &nftables.Set{Table: t, Name: "vmac_set", KeyType: nftables.TypeIFIndex, KeyByteOrder: binaryutil.NativeEndian}
		_ = f.conn.AddSet(s, nil)
		fam.vmacSet = s
	}
	macvlan := make([]byte, ifNameSize)
	copy(macvlan, "macvlan")
	kind := []expr.Any{
		&expr.Meta{Key: metaKeyOIFKIND, Register: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 2, Data: macvlan},
		&expr.Meta{Key: expr.MetaKeyOIF, Register: 2},
	}
	icmpv6Type := func(typ byte) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{typ}},
		}
	}
	var e []expr.Any
	if ip6 {
		e = append(icmpv6Type(143), // mld2-listener-report
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 24, Len: 16})
	} else {
		e = []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 9, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_IGMP}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		}
	}
	e = append(e, kind...)
	e = append(e,
		&expr.Lookup{SourceRegister: 2, DestRegister: 2, IsDestRegSet: true, SetName: m.Name, SetID: m.ID},
		&expr.Dup{RegAddr: 1, RegDev: 2, IsRegDevSet: true})
	f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.verdict(e, expr.VerdictDrop, "")})
	if ip6 {
		e := append(icmpv6Type(133), kind...) // nd-router-solicit
		e = append(e, &expr.Lookup{SourceRegister: 2, SetName: fam.vmacSet.Name, SetID: fam.vmacSet.ID})
		f.conn.AddRule(&nftables.Rule{Table: t, Chain: fam.out, Exprs: fam.verdict(e, expr.VerdictDrop, "")})
	}
}

// setupLinkLocal queues set vips_link_local and its two rules
// (setup_link_local_checks, by interface index).
func (f *VIPFilter) setupLinkLocal(fam *filterFamily) {
	kt, _ := nftables.ConcatSetType(nftables.TypeIP6Addr, nftables.TypeIFIndex)
	s := &nftables.Set{Table: fam.table, Name: "vips_link_local", KeyType: kt, Concatenation: true}
	_ = f.conn.AddSet(s, nil)
	fam.ll = s
	for _, r := range []struct {
		chain *nftables.Chain
		off   uint32
		key   expr.MetaKey
	}{{fam.inLL, 24, expr.MetaKeyIIF}, {fam.outLL, 8, expr.MetaKeyOIF}} {
		e := []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: r.off, Len: 16},
			&expr.Meta{Key: r.key, Register: 2},
			&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
		}
		f.conn.AddRule(&nftables.Rule{Table: fam.table, Chain: r.chain, Exprs: fam.verdict(e, expr.VerdictDrop, "")})
	}
}

// verdict ends a rule: a counter if asked for, then the verdict.
func (fam *filterFamily) verdict(e []expr.Any, kind expr.VerdictKind, chain string) []expr.Any {
	if fam.counters {
		e = append(e, &expr.Counter{})
	}
	return append(e, &expr.Verdict{Kind: kind, Chain: chain})
}

// lookupRule is `ip daddr @set drop` (and saddr, ip6):
//
//	[ payload load LEN @ network header + OFF => reg 1 ]
//	[ lookup reg 1 set SET ]
//	[ counter ]                                  (with Counters)
//	[ immediate reg 0 drop ]
func (fam *filterFamily) lookupRule(off, n uint32, s *nftables.Set, kind expr.VerdictKind, chain string) []expr.Any {
	return fam.verdict([]expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
	}, kind, chain)
}

// icmpv6Rule is `icmpv6 type @neighbor-discovery accept`:
//
//	[ payload load 1b @ network header + 6 => reg 1 ]
//	[ cmp eq reg 1 0x3a ]
//	[ payload load 1b @ transport header + 0 => reg 1 ]
//	[ lookup reg 1 set neighbor-discovery ]
//	[ immediate reg 0 accept ]
func (fam *filterFamily) icmpv6Rule(nd *nftables.Set) []expr.Any {
	return fam.verdict([]expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 6, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Lookup{SourceRegister: 1, SetName: nd.Name, SetID: nd.ID},
	}, expr.VerdictAccept, "")
}

// linkLocalGoto is `ip6 daddr fe80::/10 goto CHAIN` (saddr at offset 8):
//
//	[ payload load 16b @ network header + OFF => reg 1 ]
//	[ bitwise reg 1 = ( reg 1 & ffc0:: ) ^ :: ]
//	[ cmp eq reg 1 fe80:: ]
//	[ immediate reg 0 goto -> CHAIN ]
func (fam *filterFamily) linkLocalGoto(off uint32, chain string) []expr.Any {
	mask := make([]byte, 16)
	mask[0], mask[1] = 0xff, 0xc0
	ll := make([]byte, 16)
	ll[0], ll[1] = 0xfe, 0x80
	return fam.verdict([]expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 16},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 16, Mask: mask, Xor: make([]byte, 16)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ll},
	}, expr.VerdictGoto, chain)
}

// Close deletes the tables the VIPFilter created; the VIPs are no longer
// filtered. Tables already gone are no error.
func (f *VIPFilter) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for _, fam := range []*filterFamily{f.v4, f.v6} {
		if fam == nil {
			continue
		}
		f.conn.DelTable(fam.table)
		if err := f.conn.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("nat: deleting table %s %s: %w", familyName(fam.table.Family), f.cfg.Table, err))
		}
	}
	return errors.Join(errs...)
}

// discard drops the queued messages of a batch that is not sent, by
// replacing the connection (a non-lasting one holds no socket).
func (f *VIPFilter) discard() {
	if c, err := nftables.New(nftables.WithNetNSFd(f.cfg.NetNS)); err == nil {
		f.conn = c
	}
}

var errVIPFilterClosed = errors.New("nat: VIP filter is closed")
