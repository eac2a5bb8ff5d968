package config

// LVSTimeouts are the IPVS connection timeouts of lvs_timeouts, in
// seconds; 0 leaves the kernel's value as it is. The zero value sets
// none.
type LVSTimeouts struct {
	TCP, TCPFin, UDP uint32
}

// LVSFlushOnStop says what of IPVS the node removes when it stops (unless
// the virtual servers are kept: dont_release_ipvs, lbnode -keep-ipvs).
type LVSFlushOnStop uint8

const (
	// LVSFlushOwn, the default, removes the node's own virtual servers.
	LVSFlushOwn LVSFlushOnStop = iota
	// LVSFlushVS is "lvs_flush_on_stop VS": keepalived removes its
	// virtual servers without first removing their real servers one by
	// one; the kernel ends the same as with LVSFlushOwn, and so does it
	// with lbnode.
	LVSFlushVS
	// LVSFlushAll is "lvs_flush_on_stop" alone: every virtual server,
	// the node's or not, is removed.
	LVSFlushAll
)

// lvsMaxTimeout is keepalived's LVS_MAX_TIMEOUT (global_data.h): 31 days.
const lvsMaxTimeout = 86400 * 31

// lvsTimeouts reads lvs_timeouts [tcp N] [tcpfin N] [udp N] as keepalived
// 2.2.7's lvs_timeouts handler (global_parser.c) does: each option may
// repeat, the last wins; a missing or bad value and an unknown option are
// ignored with a warning, as there.
func (m *kaMapper) lvsTimeouts(n *node) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	ws := n.argStrings()
	if len(ws) < 2 {
		m.warnf(n, "requires at least one option and its value (tcp N, tcpfin N, udp N): ignored, as keepalived does")
		return
	}
	t := &m.cfg.Global.LVSTimeouts
	for i := 0; i < len(ws); i++ {
		var dst *uint32
		switch ws[i] {
		case "tcp":
			dst = &t.TCP
		case "tcpfin":
			dst = &t.TCPFin
		case "udp":
			dst = &t.UDP
		default:
			m.warnf(n, "unknown option %q: ignored, as keepalived does", ws[i])
			continue
		}
		if i == len(ws)-1 {
			m.warnf(n, "no value for %s: ignored, as keepalived does", ws[i])
			continue
		}
		v, err := keepalivedUnsigned(ws[i+1], 0, lvsMaxTimeout)
		if err != nil {
			m.warnf(n, "invalid %s %q (%v): ignored, as keepalived does", ws[i], ws[i+1], err)
		} else {
			*dst = uint32(v)
		}
		i++
	}
}

// lvsFlushOnStop reads lvs_flush_on_stop [VS] (and its older name
// lvs_flush_onstop) as keepalived 2.2.7's lvs_flush_on_stop_handler: no
// word, flush all; VS (so written), the virtual servers only; any other
// word is ignored with a warning and the setting left as it was. Words
// after the first are not read.
func (m *kaMapper) lvsFlushOnStop(n *node) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	ws := n.argStrings()
	g := &m.cfg.Global
	switch {
	case len(ws) == 0:
		g.LVSFlushOnStop = LVSFlushAll
	case ws[0] == "VS":
		g.LVSFlushOnStop = LVSFlushVS
	default:
		m.warnf(n, "unknown type %q (want nothing, or VS): ignored, as keepalived does", ws[0])
	}
}

// lvsFlush reads lvs_flush, which keepalived sets whatever follows
// (and so it is here, without a word).
func (m *kaMapper) lvsFlush(n *node) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	m.cfg.Global.LVSFlush = true
}
