package config

import (
	"math"
	"strings"
)

// keepalived 2.2.7's strict mode and accept mode, read as it reads them:
// vrrp_strict and the nftables settings in global_defs
// (core/global_parser.c), strict_mode, accept and no_accept in an instance
// (vrrp/vrrp_parser.c), and what strict mode then changes in each instance
// once the whole file is read (vrrp/vrrp.c, vrrp_complete_instance), each
// change a warning, as keepalived reports it.

// strictState is what an instance's block said about strict and accept
// mode.
type strictState struct {
	mode     *bool // strict_mode; nil: the global vrrp_strict
	accept   *bool // accept / no_accept; nil: the default
	stateSet bool  // a state line was read
	// strictAtEnd is the instance's strict mode as known at its end,
	// where the state is made to agree with the priority.
	strictAtEnd bool
}

// strictGlobal reads the global_defs settings of strict mode and of the
// VRRP firewall; it reports whether name is one of them.
func (m *kaMapper) strictGlobal(n *node) bool {
	g := &m.cfg.Global
	nf := &g.NFTables
	switch n.name {
	case "vrrp_strict":
		// keepalived sets it whatever follows (vrrp_strict_handler).
		if m.noBlock(n) {
			g.VRRPStrict = true
		}
	case "nftables":
		name := "keepalived"
		if len(n.args) > 0 {
			var ok bool
			if name, ok = m.firstArg(n); !ok {
				return true
			}
		} else if n.block {
			m.errf(n, "takes no block")
			return true
		}
		switch {
		case m.nftSet:
			m.warnf(n, "nftables already specified - ignoring, as keepalived does")
		case len(name) >= 256:
			m.warnf(n, "nftables table name too long - ignoring, as keepalived does")
		default:
			// The chain priority goes back to keepalived's default.
			nf.Table, nf.Priority, m.nftSet = name, -1, true
		}
	case "vrrp_iptables":
		// keepalived 2.2.7 as Debian builds it (nftables, no iptables).
		if m.noBlock(n) {
			m.warnf(n, "iptables not supported, using nftables instead (table keepalived), as keepalived does. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option")
			nf.Table, nf.Priority = "keepalived", -1
		}
	case "nftables_priority":
		s, ok := m.firstArg(n)
		if !ok {
			return true
		}
		p, err := parseIntRange(s, math.MinInt32, math.MaxInt32)
		if err != nil {
			m.warnf(n, "invalid nftables chain priority '%s': ignored, as keepalived does", s)
			return true
		}
		nf.Priority = int32(p)
	case "nftables_ifindex":
		if m.noBlock(n) {
			nf.Ifindex = true
		}
	case "nftables_counters":
		if m.noBlock(n) {
			nf.Counters = true
		}
	default:
		return false
	}
	return true
}

// noBlock checks a keepalived switch that ignores what follows it: words
// after it are ignored with a warning, as keepalived ignores them.
func (m *kaMapper) noBlock(n *node) bool {
	if n.block {
		m.errf(n, "takes no block")
		return false
	}
	if len(n.args) > 0 {
		m.warnf(n, "%q after it ignored, as keepalived ignores it", strings.Join(n.argStrings(), " "))
	}
	return true
}

// firstArg is a directive's first word; keepalived ignores the others.
func (m *kaMapper) firstArg(n *node) (string, bool) {
	switch {
	case n.block:
		m.errf(n, "takes no block")
	case len(n.args) == 0:
		m.errf(n, "missing value")
	default:
		if len(n.args) > 1 {
			m.warnf(n, "%q after %q ignored, as keepalived ignores it", strings.Join(n.argStrings()[1:], " "), n.args[0].text)
		}
		return n.args[0].text, true
	}
	return "", false
}

// strictInstance reads strict_mode, accept and no_accept in an instance;
// it reports whether name is one of them.
func (m *kaMapper) strictInstance(n *node, in *VRRPInstance, st *strictState) bool {
	switch n.name {
	case "strict_mode":
		if n.block {
			m.errf(n, "takes no block")
			return true
		}
		v := true
		if len(n.args) > 0 {
			switch n.args[0].text {
			case "true", "on", "yes":
			case "false", "off", "no":
				v = false
			default:
				m.warnf(n, "(%s) invalid strict_mode %s specified: ignored, as keepalived does", in.Name, n.args[0].text)
				return true
			}
		}
		st.mode = &v
	case "accept", "no_accept":
		if m.noBlock(n) {
			v := n.name == "accept"
			st.accept = &v
		}
	default:
		return false
	}
	return true
}

// strictState makes, at the end of an instance's block, its state agree
// with being the address owner in strict mode, before the state's
// defaults apply (vrrp_complete_instance: "State MASTER must match being
// address owner").
func (m *kaMapper) strictStateEnd(b *node, in *VRRPInstance, st *strictState, prioritySet bool) {
	st.strictAtEnd = m.cfg.Global.VRRPStrict
	if st.mode != nil {
		st.strictAtEnd = *st.mode
	}
	if !st.strictAtEnd || !st.stateSet || !prioritySet {
		return // an unset priority is derived from the state
	}
	if owner := in.Priority == 255; (in.State == StateMaster) != owner {
		m.warnf(b, "(%s) State MASTER must match being address owner: state %s, as keepalived does", in.Name, map[bool]State{true: StateMaster, false: StateBackup}[owner])
		in.State = map[bool]State{true: StateMaster, false: StateBackup}[owner]
	}
}

// strictModes applies, once the whole file is read, what strict mode
// changes in each instance and the instance's accept mode, as
// vrrp_complete_instance does, in its order; lowerPrioDefaults has run.
func (m *kaMapper) strictModes() {
	g := &m.cfg.Global
	for i := range m.cfg.VRRP {
		in, st, set := &m.cfg.VRRP[i], m.strict[i], m.lowerSet[i]
		at := &node{pos: in.Pos, name: "vrrp_instance"}
		strict := g.VRRPStrict
		if st.mode != nil {
			strict = *st.mode
		}
		in.StrictMode = strict
		if strict != st.strictAtEnd {
			m.errf(at, "(%s) not supported: vrrp_strict comes after the instance; lbnode needs it in a global_defs before the vrrp_instance blocks", in.Name)
			continue
		}
		if strict {
			if in.Version == 2 && in.IPv6() {
				m.warnf(at, "(%s) cannot use IPv6 with VRRP version 2; setting version 3, as keepalived does", in.Name)
				in.Version = 3
			}
			if len(in.VirtualIPs) == 0 {
				m.errf(at, "(%s) No VIP specified; at least one is required", in.Name)
			}
			if in.Auth != nil {
				m.warnf(at, "(%s) Strict mode does not support authentication. Ignoring, as keepalived does", in.Name)
				in.Auth = nil
			}
			if in.VMAC != nil && in.VMAC.Addr != nil {
				m.warnf(at, "(%s): cannot specify MAC address with strict mode - clearing, as keepalived does", in.Name)
				in.VMAC.Addr = nil
			}
			if in.IPv6() && len(in.UnicastPeers) == 0 && len(in.VirtualIPs) > 0 && !in.VirtualIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
				m.warnf(at, "(%s) the first IPv6 VIP address must be link local (keepalived warns and runs it)", in.Name)
			}
			if in.PreemptDelay != 0 {
				m.warnf(at, "(%s) preempt_delay is incompatible with strict mode - resetting, as keepalived does", in.Name)
				in.PreemptDelay = 0
			}
		}
		owner := in.Priority == 255
		accept := owner || !strict
		if st.accept != nil {
			accept = *st.accept
		}
		if accept && !owner && strict && in.vrrpVersion(*g) == 2 {
			m.warnf(at, "(%s) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting, as keepalived does", in.Name)
			accept = false
		}
		// The address owner accepts whatever it says (vrrp_handle_accept_mode).
		in.NoAccept = !accept && !owner
		if !strict {
			continue
		}
		switch {
		case !set.repeat:
			in.GARPLowerPrioRepeat = 0
		case in.GARPLowerPrioRepeat != 0:
			m.warnf(at, "(%s) Strict mode requires no repeat garps. resetting, as keepalived does", in.Name)
			in.GARPLowerPrioRepeat = 0
		}
		switch {
		case !set.delay:
			in.GARPLowerPrioDelay = 0
		case in.GARPLowerPrioDelay != 0:
			m.warnf(at, "(%s) Strict mode requires no repeat garp delay. resetting, as keepalived does", in.Name)
			in.GARPLowerPrioDelay = 0
		}
		switch {
		case !set.noAdvert:
			in.LowerPrioNoAdvert = true
		case !in.LowerPrioNoAdvert:
			m.warnf(at, "(%s) Strict mode requires no lower priority advert. resetting, as keepalived does", in.Name)
			in.LowerPrioNoAdvert = true
		}
		if in.VMAC != nil && in.VMAC.XmitBase {
			m.warnf(at, "(%s) xmit_base is incompatible with strict mode - resetting, as keepalived does", in.Name)
			in.VMAC.XmitBase = false
		}
	}
}
