package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// SyncIDUnset is SyncDaemon.SyncID before the file is fully read: the
// sync ID then defaults to the instance's virtual_router_id, or to 0
// without an instance, as in keepalived.
const SyncIDUnset = -1

// SyncDaemon is keepalived's IPVS connection sync daemon, set by
// global_defs' lvs_sync_daemon or, deprecated, a vrrp_instance's
// lvs_sync_daemon_interface.
//
// With an Instance, the daemon follows it as keepalived's VRRP process
// drives it (vrrp.c, vrrp_scheduler.c, vrrp_daemon.c): a backup daemon
// while the node starts and while the instance is not MASTER; on becoming
// MASTER the backup daemon is stopped and a master daemon started, and
// the reverse on leaving MASTER; the running one is stopped when the node
// stops. Without an Instance, both a master and a backup daemon run for as
// long as the node does (keepalived's checker process, check_daemon.c).
type SyncDaemon struct {
	Pos Pos
	// Interface is the interface the sync messages are multicast on.
	Interface string
	// Instance is the VRRP instance whose state selects master or
	// backup; empty means both run.
	Instance string
	// SyncID is 0-255; after parsing it is never SyncIDUnset.
	SyncID int
	// MaxLen, Port, TTL and Group are the optional maxlen, port, ttl
	// and group; zero (invalid Group) leaves the kernel's default.
	MaxLen uint16
	Port   uint16
	TTL    uint8
	Group  netip.Addr
}

// maxSyncIfName is the longest interface name IPVS takes
// (IP_VS_IFNAME_MAXLEN less the NUL).
const maxSyncIfName = 15

// lvsSyncDaemon reads global_defs' lvs_sync_daemon INTERFACE
// [VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP] [inst NAME]
// as keepalived's lvs_syncd_handler (global_parser.c) does: what it
// refuses is ignored with a warning, and so it is here.
func (m *kaMapper) lvsSyncDaemon(n *node) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	g := &m.cfg.Global
	if g.SyncDaemon != nil {
		m.warnf(n, "already specified as %s %s: ignored, as keepalived does", g.SyncDaemon.Interface, g.SyncDaemon.Instance)
		return
	}
	ws := n.argStrings()
	if len(ws) == 0 {
		m.warnf(n, "requires an interface: ignored, as keepalived does")
		return
	}
	if len(ws[0]) > maxSyncIfName {
		m.warnf(n, "interface name %q too long (more than %d bytes): ignored, as keepalived does", ws[0], maxSyncIfName)
		return
	}
	sd := &SyncDaemon{Pos: n.pos, Interface: ws[0], SyncID: SyncIDUnset}
	// ws[i] is keepalived's strvec slot i+1.
	for i := 1; i < len(ws); i++ {
		w := ws[i]
		last := i == len(ws)-1
		switch w {
		case "inst":
			if last {
				m.warnf(n, "inst: no instance name: ignored")
				continue
			}
			if sd.Instance != "" {
				m.warnf(n, "vrrp instance already specified as %s: inst %s ignored, as keepalived does", sd.Instance, ws[i+1])
			} else {
				sd.Instance = ws[i+1]
			}
			i++
		case "id", "maxlen", "port", "ttl":
			if last {
				m.warnf(n, "no value for %s: ignored, as keepalived does", w)
				continue
			}
			m.syncNumber(n, sd, w, ws[i+1])
			i++
		case "group":
			if last {
				m.warnf(n, "no value for group: ignored, as keepalived does")
				continue
			}
			a, err := netip.ParseAddr(ws[i+1])
			switch {
			case err != nil || a.Zone() != "":
				m.warnf(n, "group %q is not an address: ignored, as keepalived does", ws[i+1])
			case !a.IsMulticast():
				m.warnf(n, "group %s is not multicast: ignored, as keepalived does", a)
			default:
				sd.Group = a
			}
			i++
		default:
			switch i {
			case 1: // lvs_sync_daemon IF VRRP_INSTANCE, the older form
				sd.Instance = w
			case 2: // ... VRRP_INSTANCE SYNC_ID, the older form
				if v, err := keepalivedUnsigned(w, 0, 255); err != nil {
					m.warnf(n, "invalid syncid %q (%v): the instance's virtual_router_id is used, as keepalived does", w, err)
				} else {
					m.warnf(n, "sync ID %s given without the keyword \"id\": taken, as keepalived does; write \"id %s\"", w, w)
					sd.SyncID = int(v)
				}
			default:
				m.warnf(n, "unknown option %q: ignored, as keepalived does", w)
			}
		}
	}
	g.SyncDaemon = sd
}

// syncNumber reads the value of an id, maxlen, port or ttl option within
// keepalived's bounds; a bad one is ignored with a warning, as there.
func (m *kaMapper) syncNumber(n *node, sd *SyncDaemon, opt, s string) {
	bounds := map[string][2]uint64{"id": {0, 255}, "maxlen": {1, 65535 - 20 - 8}, "port": {1, 65535}, "ttl": {1, 255}}[opt]
	v, err := keepalivedUnsigned(s, bounds[0], bounds[1])
	if err != nil {
		if opt == "id" {
			m.warnf(n, "invalid syncid %q (%v): the instance's virtual_router_id is used, as keepalived does", s, err)
		} else {
			m.warnf(n, "invalid %s %q (%v): ignored, as keepalived does", opt, s, err)
		}
		return
	}
	switch opt {
	case "id":
		sd.SyncID = int(v)
	case "maxlen":
		sd.MaxLen = uint16(v)
	case "port":
		sd.Port = uint16(v)
	case "ttl":
		sd.TTL = uint8(v)
	}
}

// keepalivedUnsigned reads a decimal unsigned number as keepalived's
// read_unsigned_strvec: leading white space and a '+' allowed, nothing
// after the digits, within [lo, hi].
func keepalivedUnsigned(s string, lo, hi uint64) (uint64, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("negative number")
	}
	t = strings.TrimPrefix(t, "+")
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("outside [%d, %d]", lo, hi)
	}
	return v, nil
}

// lvsSyncDaemonInterface reads a vrrp_instance's deprecated
// lvs_sync_daemon_interface IF, which ties the sync daemon to that
// instance (vrrp_parser.c's vrrp_lvs_syncd_handler).
func (m *kaMapper) lvsSyncDaemonInterface(n *node, instance string) {
	s, ok := m.value(n)
	if !ok {
		return
	}
	g := &m.cfg.Global
	if g.SyncDaemon != nil {
		m.warnf(n, "lvs_sync_daemon_interface has already been specified as %s: ignored, as keepalived does", g.SyncDaemon.Interface)
		return
	}
	if len(s) > maxSyncIfName {
		// keepalived would copy the first 15 bytes into the request
		// (ipvswrapper.c:256, strcpy_safe into mcast_ifn) and start the
		// daemon on whatever interface has that name.
		m.errf(n, "interface name %q too long (more than %d bytes): keepalived would cut it to %q (ipvswrapper.c:256) and sync on that interface", s, maxSyncIfName, s[:maxSyncIfName])
		return
	}
	m.warnf(n, "deprecated in vrrp_instance %s: write \"lvs_sync_daemon %s %s\" in global_defs", instance, s, instance)
	g.SyncDaemon = &SyncDaemon{Pos: n.pos, Interface: s, Instance: instance, SyncID: SyncIDUnset}
}

// resolveSyncDaemon ties the sync daemon to its instance once the whole
// file is read, as keepalived's vrrp_complete_init does: an unknown
// instance drops the sync daemon with a warning, and an unset sync ID
// takes the instance's virtual_router_id (0 without an instance).
func (m *kaMapper) resolveSyncDaemon() {
	sd := m.cfg.Global.SyncDaemon
	if sd == nil {
		return
	}
	if sd.Instance == "" {
		if sd.SyncID == SyncIDUnset {
			sd.SyncID = 0
		}
		return
	}
	for _, in := range m.cfg.VRRP {
		if in.Name == sd.Instance {
			if sd.SyncID == SyncIDUnset {
				sd.SyncID = in.VirtualRouterID
			}
			return
		}
	}
	m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: sd.Pos, Directive: "lvs_sync_daemon",
		Msg: fmt.Sprintf("vrrp instance %s not found: no sync daemon runs, as keepalived does", sd.Instance)})
	m.cfg.Global.SyncDaemon = nil
}
