package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
)

// VMAC is keepalived's "use_vmac [NAME] [MAC]" with vmac_xmit_base: the
// instance's VIPs go on a macvlan interface with a virtual MAC on its
// interface, and its adverts too unless XmitBase.
type VMAC struct {
	// Name is the macvlan interface's; empty: keepalived's default
	// (vrrp.VRID, or the next name no other instance uses).
	Name string
	// Addr is the configured MAC address, its last byte the VRID when
	// five bytes were given; nil: 00:00:5e:00:01:VRID (IPv4) or
	// 00:00:5e:00:02:VRID (IPv6).
	Addr net.HardwareAddr
	// XmitBase sends and receives the adverts on the instance's
	// interface rather than on the VMAC (vmac_xmit_base).
	XmitBase bool
}

// vmacState is what an instance's use_vmac lines set, completed at the
// end of the block (VRID, unicast, vmac_xmit_base) as keepalived does.
type vmacState struct {
	on, xmitBase bool
	name         string
	addr         [6]byte
	addrSet      bool // a MAC address was accepted
	useVRID      bool // it had five bytes: the VRID is the sixth
	xmitBaseAt   *node
	at           *node // the first use_vmac
}

// useVMAC reads "use_vmac [NAME] [MAC]" as keepalived 2.2.7 does
// (vrrp_parser.c vrrp_vmac_handler): up to two words, a MAC address being
// the one with a ':'. What keepalived ignores is ignored with its
// warning.
func (m *kaMapper) useVMAC(n *node, in *VRRPInstance, st *vmacState) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	st.on = true
	if st.at == nil {
		st.at = n
	}
	args := n.argStrings()
	if len(args) > 2 {
		m.warnf(n, "%q ignored: keepalived reads a name and a MAC address at most", strings.Join(args[2:], " "))
		args = args[:2]
	}
	for _, a := range args {
		if strings.Contains(a, ":") {
			m.vmacAddr(n, a, st)
			continue
		}
		switch {
		case st.name != "":
			m.warnf(n, "VMAC interface name already specified: %q ignored, as keepalived does", a)
		case !vmacNameValid(a):
			m.warnf(n, "VMAC interface name '%s' too long or invalid characters - ignoring, as keepalived does", a)
		default:
			for _, o := range m.cfg.VRRP {
				if o.VMAC != nil && o.VMAC.Name == a {
					m.warnf(n, "(%s) VRRP instance %s is already using %s - ignoring name, as keepalived does", in.Name, o.Name, a)
					a = ""
					break
				}
			}
			st.name = a
		}
	}
}

// vmacXmitBase reads vmac_xmit_base, which keepalived sets whatever
// follows it.
func (m *kaMapper) vmacXmitBase(n *node, st *vmacState) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	if len(n.args) > 0 {
		m.warnf(n, "%q after it ignored: keepalived sets vmac_xmit_base whatever follows", strings.Join(n.argStrings(), " "))
	}
	st.xmitBase, st.xmitBaseAt = true, n
}

// vmacAddr reads use_vmac's MAC address as keepalived 2.2.7 does: six
// hexadecimal bytes of one or two digits separated by ':', or five (the
// VRID is the sixth); not multicast and not a VRRP address.
func (m *kaMapper) vmacAddr(n *node, s string, st *vmacState) {
	if st.addrSet {
		m.warnf(n, "VMAC interface address already specified: %s ignored, as keepalived does", s)
		return
	}
	if strings.Trim(s, "0123456789ABCDEFabcdef:") != "" {
		m.warnf(n, "VMAC invalid MAC address %s: ignored, as keepalived does", s)
		return
	}
	var addr [6]byte
	bad, useVRID := false, false
	p := s
	for j := 0; j < 6; j++ {
		end := strings.IndexByte(p, ':')
		if end < 0 {
			end = len(p)
		}
		if end == 0 || end > 2 {
			bad = true
			break
		}
		v, _ := strconv.ParseUint(p[:end], 16, 8)
		if end == len(p) && j < 4 {
			bad = true
			break
		}
		addr[j] = byte(v)
		rest := p[end:]
		if j == 4 && (rest == "" || rest == ":") {
			useVRID = true
			break
		}
		if rest == "" {
			if j < 5 {
				bad = true
			}
			break
		}
		p = rest[1:]
		if p == "" && j < 5 {
			bad = true
			break
		}
	}
	// keepalived keeps the flag even when it then refuses the address.
	st.useVRID = st.useVRID || (useVRID && !bad)
	switch {
	case bad:
		m.warnf(n, "VMAC invalid MAC address %s - ignored, as keepalived does", s)
	case addr[0]&1 != 0:
		m.warnf(n, "VMAC MAC address is multicast %s - ignoring, as keepalived does", s)
	case addr[0] == 0 && addr[1] == 0 && addr[2] == 0x5e && addr[3] == 0 && (addr[4] == 1 || addr[4] == 2):
		m.warnf(n, "VMAC MAC address not allowed to be RFC5798 address (%s) - ignoring, as keepalived does", s)
	default:
		st.addr, st.addrSet = addr, true
	}
}

// vmacNameValid is the kernel's dev_valid_name, which keepalived checks
// use_vmac's name with: 1-15 bytes, not "." or "..", without '/', ':' or
// white space.
func vmacNameValid(s string) bool {
	if s == "" || len(s) >= 16 || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r == '/' || r == ':' || unicode.IsSpace(r) })
}

// finishVMAC completes an instance's VMAC at the end of its block as
// keepalived 2.2.7 does (vrrp_end_handler and vrrp_complete_instance):
// unicast needs vmac_xmit_base, which is set with a warning; without an
// interface the VMAC is dropped; vmac_xmit_base without use_vmac is
// dropped; five configured bytes take the VRID as the sixth.
func (m *kaMapper) finishVMAC(b *node, in *VRRPInstance, st *vmacState) {
	unicast := false
	for _, c := range b.children {
		unicast = unicast || c.name == "unicast_peer" || c.name == "unicast_src_ip"
	}
	if st.on && unicast {
		if in.Interface == "" {
			m.warnf(b, "(%s): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac, as keepalived does", in.Name)
			st.on = false
		} else if !st.xmitBase {
			m.warnf(b, "(%s) unicast with use_vmac requires vmac_xmit_base - setting, as keepalived does", in.Name)
			st.xmitBase = true
		}
	}
	if st.xmitBase && !st.on {
		n := b
		if st.xmitBaseAt != nil {
			n = st.xmitBaseAt
		}
		m.warnf(n, "(%s) vmac_xmit_base is only valid with a vmac: ignored, as keepalived does", in.Name)
	}
	if !st.on {
		return
	}
	v := &VMAC{Name: st.name, XmitBase: st.xmitBase}
	if st.addrSet {
		a := st.addr
		if st.useVRID {
			a[5] = byte(in.VirtualRouterID)
		}
		v.Addr = net.HardwareAddr(a[:])
	}
	in.VMAC = v
	// keepalived's nftables table that sends the VMAC's IGMP/MLD reports
	// out of the base interface: lbnode adds it too (agent, nat.VIPFilter).
}

// vmacPrefix reads vmac_prefix: the first one counts, as in keepalived.
func (m *kaMapper) vmacPrefix(n *node) {
	s, ok := m.value(n)
	if !ok {
		return
	}
	if m.cfg.Global.VMACPrefix != "" {
		m.warnf(n, "vmac prefix has already been specified - ignoring %s, as keepalived does", s)
		return
	}
	m.cfg.Global.VMACPrefix = s
}

// summary describes the VMAC for Summary.
func (v *VMAC) summary(in *VRRPInstance) string {
	name := v.Name
	if name == "" {
		name = "vrrp." + strconv.Itoa(in.VirtualRouterID) + " (or the next free name)"
	}
	mac := "00:00:5e:00:01:" + fmt.Sprintf("%02x", in.VirtualRouterID)
	if in.IPv6() {
		mac = "00:00:5e:00:02:" + fmt.Sprintf("%02x", in.VirtualRouterID)
	}
	if v.Addr != nil {
		mac = v.Addr.String()
	}
	adverts := "adverts on the VMAC"
	if v.XmitBase {
		adverts = "adverts on " + in.Interface + " (vmac_xmit_base)"
	}
	return fmt.Sprintf("use_vmac: macvlan %s on %s, MAC %s, %s", name, in.Interface, mac, adverts)
}
