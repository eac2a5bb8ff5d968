package config

import (
	"net/netip"
	"strings"
	"time"
)

// Format is the syntax a configuration was read from.
type Format string

// Formats Load understands.
const (
	FormatYAML       Format = "yaml"
	FormatKeepalived Format = "keepalived.conf"
)

// Config is the whole configuration of one balancer node.
//
// NAT, Nginx and Sysctls come from the YAML format only; a keepalived.conf
// leaves them nil, as keepalived changes no kernel setting.
type Config struct {
	// Source is the file the configuration was read from ("" when built
	// in code) and Format its syntax.
	Source string
	Format Format

	Global Global
	// VRRPScripts are the vrrp_script blocks, which instances track.
	VRRPScripts []VRRPScript
	// TrackedFiles are the track_file blocks, which instances track.
	TrackedFiles []TrackedFile
	// SyncGroups are the vrrp_sync_group blocks.
	SyncGroups     []SyncGroup
	VRRP           []VRRPInstance
	VirtualServers []VirtualServer
	NAT            *NATSwitch
	Nginx          *Nginx
	// BGP is the scale-out announcement of the VIPs (YAML only); nil: none.
	BGP *BGP
	// Sysctls are the kernel settings the node applies, in order.
	Sysctls []Sysctl
	// StaticAddresses, StaticRoutes and StaticRules are keepalived's
	// static_ipaddress, static_routes and static_rules: added when the
	// node starts, removed when it stops (keepalived.conf only).
	StaticAddresses []StaticAddress
	StaticRoutes    []Route
	StaticRules     []Rule
	// Mail is keepalived's e-mail alerting (keepalived.conf only); nil:
	// no mail.
	Mail *Mail

	// Warnings are things that were accepted but have no effect, or were
	// changed, as keepalived itself accepts them with a warning (an
	// unknown global_defs setting, connect_timeout in a MISC_CHECK, an
	// auth_pass longer than 8 characters).
	Warnings []Warning
}

// Pos is where an item was defined: a file and a 1-based line. The zero Pos
// means the item was built in code.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File
	default:
		return p.File + ":" + itoa(p.Line)
	}
}

// Warning is a note about an accepted but ineffective or altered setting.
type Warning struct {
	Pos       Pos
	Directive string
	Msg       string
}

func (w Warning) String() string {
	var b strings.Builder
	if s := w.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if w.Directive != "" {
		b.WriteString(w.Directive)
		b.WriteString(": ")
	}
	b.WriteString(w.Msg)
	return b.String()
}

// Global holds keepalived's global_defs settings that matter to a node.
type Global struct {
	RouterID string
	// VMACPrefix is keepalived's vmac_prefix: the VMAC names' prefix
	// instead of "vrrp".
	VMACPrefix string
	// EnableScriptSecurity is keepalived's enable_script_security, and
	// ScriptUser and ScriptGroup its script_user (ScriptUserPos where it
	// was set): who notify and MISC_CHECK programs run as, and whether a
	// program whose path others could change is refused. ResolveScripts
	// applies them.
	EnableScriptSecurity bool
	ScriptUser           string
	ScriptGroup          string
	ScriptUserPos        Pos
	// Script is who the programs run as, set by ResolveScripts (which
	// Load calls); the zero value, root, after Parse alone.
	Script ScriptIdentity
	// DontReleaseIPVS leaves the virtual servers in the kernel when the
	// node stops, so that traffic keeps flowing through a restart; as
	// keepalived's --dont-release-ipvs. By default they are removed. YAML
	// only: keepalived.conf has no such directive.
	DontReleaseIPVS bool
	// StartupScript and ShutdownScript are keepalived's startup_script
	// and shutdown_script (and their _timeout): run before the node
	// starts and after it stops. See StartStopScript.
	StartupScript, ShutdownScript StartStopScript
	// VRRP defaults for the instances, from keepalived.conf's global_defs
	// (vrrp_garp_master_delay, vrrp_garp_master_repeat,
	// vrrp_garp_master_refresh, vrrp_garp_lower_prio_delay,
	// vrrp_garp_lower_prio_repeat, vrrp_lower_prio_no_advert). An
	// instance's own setting wins. The zero Global has keepalived's
	// defaults in effect: see NewGlobal.
	GARPMasterDelay     time.Duration
	GARPMasterRepeat    int
	GARPMasterRefresh   time.Duration
	GARPLowerPrioDelay  time.Duration
	GARPLowerPrioRepeat int
	LowerPrioNoAdvert   bool
	// GARPMasterRefreshRepeat is vrrp_garp_master_refresh_repeat (0
	// means 1) and SkipCheckAdvAddr vrrp_skip_check_adv_addr: the
	// defaults of the instances read after them.
	GARPMasterRefreshRepeat int
	SkipCheckAdvAddr        bool
	// StartupDelay is vrrp_startup_delay: a BACKUP's Master_Down timer
	// runs from this long after the start at the earliest.
	StartupDelay time.Duration
	// GARPInterval and GNAInterval are vrrp_garp_interval and
	// vrrp_gna_interval: the pause between gratuitous ARPs (IPv6:
	// unsolicited neighbour advertisements) on an interface; 0: none.
	GARPInterval, GNAInterval time.Duration
	// NotifyPriorityChanges is vrrp_notify_priority_changes, the default
	// of the sync groups and instances. GARPExtraIf and GARPExtraAll are
	// vrrp_garp_extra_if's interval and "all", the default of the
	// instances without garp_extra_if (see VRRPInstance.GARPExtraIf).
	NotifyPriorityChanges bool
	GARPExtraIf           time.Duration
	GARPExtraAll          bool
	// GARPGroups are the garp_group blocks.
	GARPGroups []GARPGroup
	// VRRPVersion is keepalived's vrrp_version, the version of the
	// instances that do not set their own (0: keepalived's default, 2 for
	// IPv4). MulticastGroup4 and MulticastGroup6 are vrrp_mcast_group4
	// and vrrp_mcast_group6 (invalid: 224.0.0.18 and ff02::12).
	VRRPVersion     int
	MulticastGroup4 netip.Addr
	MulticastGroup6 netip.Addr
	// NotifyFIFO, VRRPNotifyFIFO and LVSNotifyFIFO are notify_fifo (VRRP
	// and LVS lines), vrrp_notify_fifo and lvs_notify_fifo.
	NotifyFIFO, VRRPNotifyFIFO, LVSNotifyFIFO FIFOSpec
	// SyncDaemon is the IPVS connection sync daemon (keepalived's
	// lvs_sync_daemon); nil: none.
	SyncDaemon *SyncDaemon
	// LVSTimeouts is lvs_timeouts: the IPVS connection timeouts set when
	// the node starts, the kernel's former ones put back when it stops.
	// LVSFlush is lvs_flush: every IPVS virtual server, this node's or
	// not, is removed at the start, before the node writes its own.
	// LVSFlushOnStop is lvs_flush_on_stop: what the stop removes.
	LVSTimeouts    LVSTimeouts
	LVSFlush       bool
	LVSFlushOnStop LVSFlushOnStop
	// VRRPStrict is keepalived's vrrp_strict: the instances that do not
	// set strict_mode run in strict mode (VRRPInstance.StrictMode).
	VRRPStrict bool
	// NFTables is the firewall of the instances without accept mode
	// (keepalived's nftables, nftables_priority, nftables_ifindex and
	// nftables_counters).
	NFTables NFTables
}

// NFTables are keepalived's nftables settings for the VRRP firewall: the
// tables (families ip and ip6) that drop the VIPs of MASTER instances
// without accept mode.
type NFTables struct {
	// Table names the tables; empty means keepalived's "keepalived",
	// which keepalived uses when an instance needs a firewall and none is
	// configured.
	Table string
	// Priority is the priority of the input and output chains;
	// keepalived's default is -1 (NewGlobal).
	Priority int32
	// Ifindex is nftables_ifindex: keepalived matches link-local IPv6
	// VIPs by interface index even where it would use the name (with
	// dont_track_primary, which lbnode does not read); lbnode always uses
	// the index.
	Ifindex bool
	// Counters adds a counter to each rule.
	Counters bool
}

// NewGlobal returns the global settings with keepalived's defaults.
func NewGlobal() Global {
	return Global{
		GARPMasterDelay:     DefaultGARPMasterDelay,
		GARPMasterRepeat:    DefaultGARPMasterRepeat,
		GARPLowerPrioDelay:  DefaultGARPMasterDelay,
		GARPLowerPrioRepeat: DefaultGARPMasterRepeat,
		NFTables:            NFTables{Priority: -1},
	}
}

// State is a VRRP instance's initial state.
type State string

// Initial states.
const (
	StateBackup State = "BACKUP"
	StateMaster State = "MASTER"
)

// AuthType is the VRRPv2 authentication type.
type AuthType string

// Authentication types.
const (
	AuthPass AuthType = "PASS"
	AuthAH   AuthType = "AH"
)

// Auth is a VRRP instance's authentication block.
type Auth struct {
	Type AuthType
	// Pass is at most 8 characters (the VRRPv2 field's size).
	Pass string
}

// VirtualIP is one virtual_ipaddress entry. Prefix keeps the address's host
// bits (192.168.0.100/24); an entry without a length is a /32 (or /128).
type VirtualIP struct {
	Prefix netip.Prefix
	// Dev is the interface the address is added to; "" means the
	// instance's interface.
	Dev string
	// Label is the address label (ip addr ... label), "" for none; IPv4
	// only, at most 15 bytes.
	Label string
	// Scope is the address scope as /etc/iproute2/rt_scopes numbers it
	// (0 global, 200 site, 253 link, 254 host, 255 nowhere); IPv4 only.
	Scope uint8
	// Broadcast is the IPv4 broadcast address; invalid: none (keepalived
	// sets one only when brd is written).
	Broadcast netip.Addr
	// NoTrack keeps the instance out of FAULT while Dev is down
	// (keepalived's no_track).
	NoTrack bool
	// AddrSettings are the point-to-point peer, IFA_F_* flags, DAD and
	// preferred lifetime.
	AddrSettings
}

// AddrSettings are an address's settings beyond its prefix, interface,
// label, scope and broadcast: keepalived's peer, home, mngtmpaddr,
// noprefixroute, autojoin, -nodad and preferred_lft.
type AddrSettings struct {
	// Peer, when valid, is the other end of a point-to-point address
	// (peer ADDR): the address is then a /32 (or /128) and has no
	// broadcast address, as keepalived 2.2.7 adds it.
	Peer netip.Prefix
	// Flags are the IFA_F_* flags the address is added with, on either
	// family: IFAFHomeAddress (home), IFAFManageTempAddr (mngtmpaddr),
	// IFAFNoPrefixRoute (noprefixroute), IFAFMCAutojoin (autojoin).
	Flags uint32
	// DAD lets the kernel run duplicate address detection on an IPv6
	// address (keepalived's -nodad); by default it does not (NODAD).
	DAD bool
	// PreferredLft, when PreferredLftSet, is an IPv6 address's
	// preferred lifetime in seconds, 0xffffffff for forever; unset, a
	// /128 is added deprecated (0) and others forever.
	PreferredLft    uint32
	PreferredLftSet bool
}

// The IFA_F_* address flags keepalived.conf names (linux/if_addr.h).
const (
	IFAFHomeAddress    uint32 = 0x10  // home
	IFAFManageTempAddr uint32 = 0x100 // mngtmpaddr
	IFAFNoPrefixRoute  uint32 = 0x200 // noprefixroute
	IFAFMCAutojoin     uint32 = 0x400 // autojoin
)

// TrackInterface is one track_interface entry. With Weight 0 the instance
// enters FAULT while the interface is down; otherwise the weight is added to
// the priority while the interface is down (keepalived's semantics).
type TrackInterface struct {
	Name   string
	Weight int
	// Reverse is "weight N reverse": see TrackScript.
	Reverse bool
}

// Command is a program and its arguments, as keepalived splits a script
// string: on blanks, with '…' and "…" quoting. It is run directly, without
// a shell.
type Command []string

// String joins the command, quoting words that need it.
func (c Command) String() string {
	var b strings.Builder
	for i, w := range c {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w == "" || strings.ContainsAny(w, " \t'\"") {
			if strings.Contains(w, "'") {
				b.WriteString(`"` + w + `"`)
			} else {
				b.WriteString("'" + w + "'")
			}
			continue
		}
		b.WriteString(w)
	}
	return b.String()
}

// VRRPInstance is one vrrp_instance.
type VRRPInstance struct {
	Pos  Pos
	Name string
	// Interface is where adverts are sent and received.
	Interface       string
	State           State
	VirtualRouterID int
	Priority        int
	// Version is the VRRP version, 2 or 3; 0 means Global.VRRPVersion.
	Version int
	// NativeIPv6 makes the instance IPv6 (keepalived's native_ipv6),
	// which is VRRPv3; an instance whose first VIP is IPv6 is one too.
	NativeIPv6 bool
	// AdvertInt is the advert interval: whole seconds with VRRPv2, whole
	// centiseconds up to 40.95s with VRRPv3.
	AdvertInt time.Duration
	// Auth is nil without an authentication block.
	Auth         *Auth
	Nopreempt    bool
	PreemptDelay time.Duration
	VirtualIPs   []VirtualIP
	// ExcludedIPs are virtual_ipaddress_excluded: added and removed with
	// the VirtualIPs, announced by gratuitous ARPs, not carried in the
	// adverts; of either family, none among the VirtualIPs.
	ExcludedIPs []VirtualIP
	Track       []TrackInterface
	// TrackScripts are the vrrp_scripts the instance tracks (track_script).
	TrackScripts []TrackScript
	// TrackFiles are the track_files the instance tracks (track_file).
	TrackFiles []TrackFile
	// UnicastPeers switch the instance to unicast adverts; none means
	// multicast (to 224.0.0.18 unless a group is set). UnicastSrcIP is
	// the adverts' source address, unicast or multicast (unicast_src_ip,
	// mcast_src_ip); unset: the interface's address.
	UnicastSrcIP netip.Addr
	UnicastPeers []netip.Addr
	// MulticastGroup is where the multicast adverts go (mcast_dst_ip);
	// unset: Global's group.
	MulticastGroup netip.Addr
	// Notify programs; nil means none. Notify is called on every
	// transition with the arguments "INSTANCE" NAME STATE PRIORITY.
	Notify       Command
	NotifyMaster Command
	NotifyBackup Command
	NotifyFault  Command
	NotifyStop   Command
	// NotifyMasterRxLowerPri runs, as configured, when the instance as
	// MASTER hears an advert of lower priority (keepalived's
	// notify_master_rx_lower_pri).
	NotifyMasterRxLowerPri Command
	// GARPMasterDelay is the delay before the second burst of gratuitous
	// ARPs after becoming MASTER (0: none); GARPMasterRepeat the number
	// sent per burst; GARPMasterRefresh the interval of periodic
	// gratuitous ARPs while MASTER (0: none).
	GARPMasterDelay   time.Duration
	GARPMasterRepeat  int
	GARPMasterRefresh time.Duration
	// GARPMasterRefreshRepeat is the number of gratuitous ARPs per VIP at
	// each refresh (garp_master_refresh_repeat); 0 means 1.
	GARPMasterRefreshRepeat int
	// SkipCheckAdvAddr: as BACKUP, adverts of the router last heard as
	// MASTER are accepted whatever their addresses
	// (skip_check_adv_addr).
	SkipCheckAdvAddr bool
	// GARPLowerPrioRepeat is the number of gratuitous ARPs per VIP a
	// MASTER sends when it hears an advert of lower priority (another
	// node that also thinks it is MASTER, as when a split brain heals),
	// so that neighbours that learnt the other node's MAC come back; 0:
	// none. GARPLowerPrioDelay is the delay of a second such burst (0:
	// none). LowerPrioNoAdvert: the MASTER does not answer such an advert
	// with one of its own. keepalived's garp_lower_prio_repeat,
	// garp_lower_prio_delay and lower_prio_no_advert, whose defaults are
	// the global vrrp_garp_lower_prio_* settings, themselves defaulting to
	// vrrp_garp_master_repeat and vrrp_garp_master_delay (5 and 5 s).
	GARPLowerPrioRepeat int
	GARPLowerPrioDelay  time.Duration
	LowerPrioNoAdvert   bool
	// DontTrackPrimary is dont_track_primary: the instance's interface
	// (and VMAC) going down does not make it FAULT. PromoteSecondaries is
	// promote_secondaries: the interface's promote_secondaries is set
	// while the instance runs.
	DontTrackPrimary, PromoteSecondaries bool
	// OldUnicastChecksum is old_unicast_checksum: "" (unset: follow a
	// unicast VRRPv3 peer that computes keepalived's pre-2.0 checksum),
	// "always" (compute it) or "never" (never follow).
	OldUnicastChecksum string
	// NotifyPriorityChanges is notify_priority_changes, or the sync
	// group's, or the global one: a FIFO line (INSTANCE "NAME"
	// MASTER_PRIORITY|BACKUP_PRIORITY PRIORITY) on each change of the
	// effective priority.
	NotifyPriorityChanges bool
	// GARPExtraIf is what keepalived's garp_extra_if (or else the global
	// vrrp_garp_extra_if) sends: with "all", one gratuitous ARP this often
	// on each interface of the addresses other than the adverts' one; 0
	// none (without "all" keepalived sends them on VMACs of single
	// addresses only, which lbnode does not have).
	GARPExtraIf time.Duration
	// VirtualRoutes and VirtualRules are keepalived's virtual_routes and
	// virtual_rules: added when the instance becomes MASTER, removed
	// when it leaves MASTER (BACKUP, FAULT, stop).
	VirtualRoutes []Route
	VirtualRules  []Rule
	// VMAC puts the instance on a virtual MAC interface (keepalived's
	// use_vmac and vmac_xmit_base); nil: none.
	VMAC *VMAC
	// StrictMode is keepalived's strict_mode, or the global vrrp_strict
	// for an instance that does not set it: RFC compliance as keepalived
	// 2.2.7 enforces it (vrrp_complete_instance), already applied to the
	// other fields (no authentication, state and priority agree, no
	// preempt_delay, no lower-priority gratuitous ARPs or adverts, no
	// accept mode for a VRRPv2 backup, ...).
	StrictMode bool
	// NoAccept is the effective absence of accept mode (RFC 5798
	// Accept_Mode false): while MASTER, the node drops what is sent to its
	// VIPs and what it would send from them. keepalived's accept and
	// no_accept; by default the instance accepts, except in strict mode;
	// the address owner (priority 255) always accepts.
	NoAccept bool
}

// Protocol is a virtual server's transport protocol.
type Protocol string

// Protocols.
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// LBKind is the IPVS forwarding method.
type LBKind string

// Forwarding methods.
const (
	LBKindNAT LBKind = "NAT"
	LBKindDR  LBKind = "DR"
	LBKindTUN LBKind = "TUN"
)

// VirtualServer is one virtual_server: an address and port, or a firewall
// mark.
type VirtualServer struct {
	Pos Pos
	// Addr is the virtual address and port; it is the zero AddrPort when
	// FWMark is set.
	Addr   netip.AddrPort
	FWMark uint32
	// Protocol is ignored by IPVS for fwmark services.
	Protocol Protocol
	// LBAlgo is the IPVS scheduler name (rr, wrr, lc, wlc, ...).
	LBAlgo string
	// SchedFlags are the scheduler's IPVS flags: keepalived's flag-1,
	// flag-2 and flag-3; for sh and mh, flag-1 is sh-fallback or
	// mh-fallback and flag-2 sh-port or mh-port.
	SchedFlags SchedFlags
	// OnePacket is keepalived's ops, IPVS one-packet scheduling: each UDP
	// datagram is scheduled on its own. UDP address services and fwmark
	// services only.
	OnePacket bool
	LBKind    LBKind
	// Tunnel is the encapsulation with LBKind TUN.
	Tunnel    Tunnel
	DelayLoop time.Duration
	// PersistenceEngine is the IPVS persistence engine ("sip"), "" none
	// (keepalived's persistence_engine).
	PersistenceEngine string
	// IPFamily is 4 or 6 when ip_family sets it (the family of a fwmark
	// service), 0 otherwise.
	IPFamily int
	// PersistenceTimeout 0 means not persistent.
	PersistenceTimeout time.Duration
	// PersistenceGranularity is the persistence netmask as a prefix
	// length; 0 means a single client address (/32 or /128).
	PersistenceGranularity int
	RealServers            []RealServer

	// Group is set for keepalived's `virtual_server group NAME`: the
	// server stands for every entry of that virtual_server_group, one
	// IPVS service each (GroupAddrs with ranges expanded, then
	// GroupFWMarks), all with the same real servers and one health
	// check per real server. Addr and FWMark are then zero.
	Group        string
	GroupAddrs   []netip.AddrPort
	GroupFWMarks []uint32
	// SorryServer, if set, is put in the service while the quorum is
	// lost (by default: no real server up), and the live real servers
	// are taken out; it leaves when the quorum is back.
	SorryServer *SorryServer
	// Quorum is the sum of the live real servers' weights the service
	// needs (keepalived's default 1; 0 reads as 1). The quorum is gained
	// at Quorum+Hysteresis and lost below Quorum-Hysteresis, running
	// QuorumUp or QuorumDown (nil: none).
	Quorum     int
	Hysteresis int
	QuorumUp   Command
	QuorumDown Command
	// Alpha starts the real servers with checkers down until their
	// first success; Omega runs QuorumDown and the real servers'
	// NotifyDown when the node stops; HASuspend is keepalived's
	// ha_suspend: the checks are suspended while the virtual address is
	// not on the node.
	Alpha     bool
	Omega     bool
	HASuspend bool
}

// SchedFlags are the three IPVS scheduler flags (IP_VS_SVC_F_SCHED1-3).
type SchedFlags uint8

// Scheduler flags. The sh and mh schedulers read SchedFlag1 as "fallback"
// (a destination of weight 0 or overloaded passes the connection on to the
// next) and SchedFlag2 as "port" (the source port is hashed with the
// source address); the other schedulers of Linux read none.
const (
	SchedFlag1 SchedFlags = 1 << iota
	SchedFlag2
	SchedFlag3
	allSchedFlags = SchedFlag1 | SchedFlag2 | SchedFlag3
)

// schedFlagNames are the names keepalived and ipvsadm give the flags, by
// scheduler ("" for any scheduler).
var schedFlagNames = []struct {
	name, sched string
	flag        SchedFlags
}{
	{"flag-1", "", SchedFlag1},
	{"flag-2", "", SchedFlag2},
	{"flag-3", "", SchedFlag3},
	{"sh-fallback", "sh", SchedFlag1},
	{"sh-port", "sh", SchedFlag2},
	{"mh-fallback", "mh", SchedFlag1},
	{"mh-port", "mh", SchedFlag2},
}

// Names returns the flags as keepalived and ipvsadm name them for the
// scheduler sched: sh-fallback and sh-port for sh, mh-fallback and
// mh-port for mh, flag-N otherwise (and for flag-3).
func (f SchedFlags) Names(sched string) []string {
	var out []string
	for _, bit := range []SchedFlags{SchedFlag1, SchedFlag2, SchedFlag3} {
		if f&bit == 0 {
			continue
		}
		name := ""
		for _, n := range schedFlagNames {
			if n.flag == bit && (n.sched == "" || n.sched == sched) {
				name = n.name
			}
		}
		out = append(out, name)
	}
	return out
}

// SorryServer is a virtual server's sorry_server: weight 1, forwarded
// as the virtual server's real servers. Inhibit (sorry_server_inhibit)
// keeps it in the service at weight 0 while it is not in use.
type SorryServer struct {
	Pos     Pos
	Addr    netip.AddrPort
	Inhibit bool
	// LBKind and Tunnel are its forwarding method: the virtual server's
	// unless sorry_server_lvs_method sets one.
	LBKind LBKind
	Tunnel Tunnel
}

// Tunnel is the encapsulation of TUN forwarding, as keepalived reads
// lvs_method TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]:
// Type "" is ipip, Csum "" is nocsum; Port only with gue.
type Tunnel struct {
	Type string
	Port uint16
	Csum string
}

// Key names the virtual server in messages: "TCP 192.168.0.100:80",
// "FWM 7" or "group NAME".
func (vs *VirtualServer) Key() string {
	if vs.Group != "" {
		return "group " + vs.Group
	}
	if vs.FWMark != 0 {
		return "FWM " + itoa(int(vs.FWMark))
	}
	return string(vs.Protocol) + " " + vs.Addr.String()
}

// RealServer is one real_server of a virtual server.
type RealServer struct {
	Pos Pos
	// Addr is the real server; its port may be 0 for fwmark services
	// (the client's destination port is kept).
	Addr   netip.AddrPort
	Weight int
	// LBKind and Tunnel are its forwarding method: the virtual server's
	// (as set when the real_server block is read, keepalived's
	// reading) unless the real server's own lvs_method sets one.
	LBKind LBKind
	Tunnel Tunnel
	// CheckPort is the port written in the file when the reader reset or
	// cleared it for IPVS (direct routing or tunnelling with another port
	// than the service's, a fwmark service): the checks still connect to
	// it, as keepalived's checkers copy the address when they are read.
	// 0: the port of Addr.
	CheckPort uint16
	// UThreshold and LThreshold are IPVS's connection thresholds
	// (uthreshold, lthreshold; 0 none).
	UThreshold, LThreshold uint32
	// InhibitOnFailure sets the weight to 0 on failure instead of
	// removing the real server.
	InhibitOnFailure bool
	Checkers         []Checker
	// Alpha: the real server starts down until its checkers' first
	// success (keepalived's alpha, inherited from the virtual server).
	Alpha bool
	// DelayLoop is the interval of the real server's checks when it
	// differs from the virtual server's (keepalived's delay_loop in a
	// real_server or checker block); 0 means the virtual server's.
	DelayLoop time.Duration
	// NotifyUp and NotifyDown run, as written, when the real server
	// comes up or goes down (nil: none).
	NotifyUp   Command
	NotifyDown Command
	// FileChecks are the real server's FILE_CHECKs: tracked files whose
	// values change its weight or take it down.
	FileChecks []FileCheck
}

// FileCheck is a FILE_CHECK of a real server: a track_file by name and its
// weight there (default: the track_file's own). With a weight other than
// 0 the file's value times the weight (negated by Reverse), clamped to the
// 32-bit range, is added to the real server's weight, and the bottom of
// that range (-2147483648) takes it down. With weight 0 a value other than
// 0 takes it down (with Reverse: a value of 0). keepalived 2.2.7's
// check_file.c and track_file.c.
type FileCheck struct {
	Pos     Pos
	Name    string
	Weight  int
	Reverse bool
}

// CheckKind is a health checker kind, named as in keepalived.conf.
type CheckKind string

// Checker kinds.
const (
	TCPCheck  CheckKind = "TCP_CHECK"
	HTTPGet   CheckKind = "HTTP_GET"
	SSLGet    CheckKind = "SSL_GET"
	MiscCheck CheckKind = "MISC_CHECK"
	DNSCheck  CheckKind = "DNS_CHECK"
	UDPCheck  CheckKind = "UDP_CHECK"
	SMTPCheck CheckKind = "SMTP_CHECK"
	PingCheck CheckKind = "PING_CHECK"
)

// Checker is one health checker of a real server. Fields that do not apply
// to its Kind are zero.
type Checker struct {
	Pos  Pos
	Kind CheckKind
	// ConnectIP and ConnectPort override the real server's address and
	// port (zero: the real server's).
	ConnectIP      netip.Addr
	ConnectPort    uint16
	ConnectTimeout time.Duration
	// Retry is the number of retries after a failure before the real
	// server is declared down; DelayBeforeRetry the pause between them.
	Retry            int
	DelayBeforeRetry time.Duration
	// HTTP_GET and SSL_GET.
	URLs        []URL
	VirtualHost string
	// MISC_CHECK: the program (exit 0: up), its timeout (defaults to the
	// virtual server's delay_loop, as in keepalived) and misc_dynamic (exit
	// codes 2-255 set the weight to code-2).
	MiscPath    Command
	MiscTimeout time.Duration
	MiscDynamic bool
	// DNS_CHECK: the query name and type ("." and SOA by default).
	DNSName string
	DNSType string
	// SMTP_CHECK: the HELO name ("" for keepalived's default).
	HeloName string
	// BindTo and BindIf are keepalived's bindto and bind_if: the source
	// address and interface of the checks (zero: the kernel's choice).
	BindTo netip.Addr
	BindIf string
	// BindPort is keepalived's bind_port: the checks' source port, used
	// with BindTo (keepalived binds only to a bindto address); FWMark its
	// fwmark: the firewall mark of the checks' packets (0: none).
	BindPort uint16
	FWMark   uint32
	// HTTP_GET and SSL_GET: HTTPProtocol is keepalived's http_protocol
	// ("1.0", "1.0C" or "1.1"; "" for keepalived's default, 1.0);
	// EnableSNI its enable_sni (SSL_GET sends the virtual host as the TLS
	// server name); FastRecovery its fast_recovery.
	HTTPProtocol string
	EnableSNI    bool
	FastRecovery bool
	// SNIHost is the virtual host enable_sni sends: the checker's own
	// virtualhost, else the virtual server's (not the real server's, as
	// keepalived picks it); a url's own virtualhost comes first.
	SNIHost string
	// UDP_CHECK: the payload (nil: keepalived's default), require_reply
	// with its data and wildcard mask, and min_reply_length and
	// max_reply_length (0-255 by default), which apply with reply data.
	UDPPayload      []byte
	UDPRequireReply bool
	UDPReply        []byte
	UDPReplyMask    []byte
	UDPMinReply     int
	UDPMaxReply     int
	// MISC_CHECK: user USER [GROUP] runs the program as that user instead
	// of script_user (MiscUserPos: where it was set); MiscIdentity is who
	// it then runs as, set by ResolveScripts (used only with MiscUser).
	MiscUser, MiscGroup string
	MiscUserPos         Pos
	MiscIdentity        ScriptIdentity
}

// DefaultUDPMaxReply is keepalived's max_reply_length default.
const DefaultUDPMaxReply = 255

// URL is one url block of an HTTP_GET or SSL_GET checker.
type URL struct {
	Path string
	// Digest is the lowercase hex MD5 of the body; "" means not checked.
	Digest string
	// StatusCodes are the accepted codes; empty means 200-299.
	StatusCodes []StatusRange
	// VirtualHost is the url's own virtualhost: its Host header and, with
	// enable_sni, its TLS server name ("": the checker's).
	VirtualHost string
	// Regex is keepalived's regex: a PCRE2 pattern the body must match
	// (or, with RegexNoMatch, must not), with RegexOptions (PCRE2 option
	// names, as keepalived's regex_options); GoRegex is the pattern as
	// Go's regexp reads it with the same meaning (see GoRegexp), and
	// RegexBytes says the body is matched byte by byte (PCRE2 without its
	// utf option). A match may start at RegexMinOffset or later and
	// before RegexMaxOffset (regex_max_offset plus one, as keepalived
	// keeps it; 0: no bound).
	Regex          string
	RegexOptions   []string
	RegexNoMatch   bool
	RegexMinOffset int
	RegexMaxOffset int
	GoRegex        string
	RegexBytes     bool
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

func (r StatusRange) String() string {
	if r.Min == r.Max {
		return itoa(r.Min)
	}
	return itoa(r.Min) + "-" + itoa(r.Max)
}

// NATSwitch is the nftables DNAT toggled by a VRRP instance: while the
// instance is not MASTER, traffic arriving on Interface for one of the VIPs
// is DNATed to the node's own address there, so that the BACKUP serves the
// packets the MASTER's IPVS sends it.
type NATSwitch struct {
	Pos Pos
	// Instance names the VRRP instance whose state drives the rule; it may
	// be empty when there is exactly one instance.
	Instance  string
	Interface string
	VIPs      []netip.Addr
	// LocalAddress is the DNAT target; the zero Addr means the first
	// address of Interface, resolved by the agent.
	LocalAddress netip.Addr
}

// Nginx is the proxy layer (YAML only), mapped by the agent onto proxyconf.
type Nginx struct {
	Pos Pos
	// Prefix is the folder of the node's nginx: its configuration (under
	// conf/), pid file, logs and temporary files. Empty means the agent's
	// default, /run/lvskit/nginx-ROUTER_ID.
	Prefix string
	// Sites are http{} files, Streams stream{} files.
	Sites   []NginxSite
	Streams []NginxStream
}

// NginxSite is one http{} file: upstream groups and servers.
type NginxSite struct {
	Name      string
	Upstreams []NginxUpstream
	Servers   []NginxServer
}

// NginxStream is one stream{} file.
type NginxStream struct {
	Name      string
	Upstreams []NginxUpstream
	Servers   []NginxStreamServer
}

// NginxUpstream is an upstream group.
type NginxUpstream struct {
	Name string
	// Method is "" (round robin), least_conn, ip_hash (http only) or
	// random.
	Method  string
	Servers []NginxUpstreamServer
}

// NginxUpstreamServer is one server line of an upstream group.
type NginxUpstreamServer struct {
	Address netip.AddrPort
	// Weight 0 is not rendered (nginx's default 1).
	Weight int
	// MaxFails nil is not rendered.
	MaxFails    *int
	FailTimeout time.Duration
	Backup      bool
	Down        bool
}

// NginxListen is one listen directive. The zero Addr listens on every
// address.
type NginxListen struct {
	Addr          netip.Addr
	Port          uint16
	DefaultServer bool
	UDP           bool
	ReusePort     bool
}

// NginxServer is an http server block.
type NginxServer struct {
	Listen      []NginxListen
	ServerNames []string
	Locations   []NginxLocation
}

// NginxLocation is a location proxying to an upstream group.
type NginxLocation struct {
	// Match is "", "=", "^~", "~" or "~*".
	Match string
	Path  string
	// ProxyPass names an http upstream group.
	ProxyPass string
	HTTPS     bool
	// Headers are proxy_set_header lines in order.
	Headers       []NginxHeader
	ProxyRedirect string
}

// NginxHeader is one proxy_set_header line.
type NginxHeader struct {
	Name  string
	Value string
}

// NginxStreamServer is a stream server block.
type NginxStreamServer struct {
	Listen []NginxListen
	// ProxyPass names a stream upstream group.
	ProxyPass           string
	ProxyConnectTimeout time.Duration
	ProxyTimeout        time.Duration
	// ProxyResponses nil is not rendered.
	ProxyResponses *int
}

// Sysctl is one kernel setting, written as sysctl(8) names it.
type Sysctl struct {
	Key   string
	Value string
}

// DefaultSysctls returns the article's three settings: non-local bind for
// nginx listening on the VIP, IPVS drop_entry defence and a large conntrack
// table. Neither format applies them unless the YAML sysctls list them.
func DefaultSysctls() []Sysctl {
	return []Sysctl{
		{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"},
		{Key: "net.ipv4.vs.drop_entry", Value: "1"},
		{Key: "net.nf_conntrack_max", Value: "4194304"},
	}
}

// VRRPv3 advert intervals are whole centiseconds, at most 40.95s (a 12-bit
// field).
const (
	centisecond    = 10 * time.Millisecond
	maxAdvertIntV3 = 4095 * centisecond
)

// Defaults, as keepalived's.
const (
	DefaultPriority         = 100
	DefaultAdvertInt        = time.Second
	DefaultGARPMasterDelay  = 5 * time.Second
	DefaultGARPMasterRepeat = 5
	DefaultDelayLoop        = 60 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultRetry            = 1 // MISC_CHECK: DefaultMiscRetry, DNS_CHECK: DefaultDNSRetry
	DefaultMiscRetry        = 0
	DefaultDNSRetry         = 3
	DefaultDelayBeforeRetry = time.Second
	DefaultWeight           = 1
	DefaultLBAlgo           = "wlc"
	DefaultLBKind           = LBKindNAT
	DefaultPersistence      = 360 * time.Second // persistence_timeout without a value
	DefaultDNSType          = "SOA"
	DefaultDNSName          = "."
	maxAuthPass             = 8
	maxPreemptDelay         = 1000 * time.Second
	maxWeight               = 65535
	maxGARPRepeat           = 1000
	maxDuration             = 24 * time.Hour
)

// NewVRRPInstance returns an instance with keepalived's defaults.
func NewVRRPInstance(name string) VRRPInstance {
	return VRRPInstance{
		Name:                name,
		State:               StateBackup,
		Priority:            DefaultPriority,
		AdvertInt:           DefaultAdvertInt,
		GARPMasterDelay:     DefaultGARPMasterDelay,
		GARPMasterRepeat:    DefaultGARPMasterRepeat,
		GARPLowerPrioDelay:  DefaultGARPMasterDelay,
		GARPLowerPrioRepeat: DefaultGARPMasterRepeat,
	}
}

// NewVirtualServer returns a virtual server with keepalived's defaults.
// Protocol is left empty: the keepalived.conf reader applies keepalived's
// default (UDP, with a warning) and the YAML reader requires it.
func NewVirtualServer() VirtualServer {
	return VirtualServer{
		LBAlgo:    DefaultLBAlgo,
		LBKind:    DefaultLBKind,
		DelayLoop: DefaultDelayLoop,
	}
}

// NewRealServer returns a real server with keepalived's defaults.
func NewRealServer(addr netip.AddrPort) RealServer {
	return RealServer{Addr: addr, Weight: DefaultWeight}
}

// NewChecker returns a checker of kind with keepalived's defaults.
// MiscTimeout is left 0; Validate-ready configs from the readers set it to
// the virtual server's delay_loop.
func NewChecker(kind CheckKind) Checker {
	c := Checker{Kind: kind, Retry: DefaultRetry, DelayBeforeRetry: DefaultDelayBeforeRetry}
	switch kind {
	case MiscCheck:
		c.Retry = DefaultMiscRetry
	case UDPCheck:
		c.UDPMaxReply = DefaultUDPMaxReply
	case DNSCheck:
		c.Retry = DefaultDNSRetry
		c.DNSType = DefaultDNSType
		c.DNSName = DefaultDNSName
	}
	if kind != MiscCheck {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

// applyStateDefaults does what keepalived does with an instance's initial
// state: one starting as MASTER without a priority gets 255 (the address
// owner's); nopreempt is cleared at priority 255 or with state MASTER, and
// preempt_delay with state MASTER. It returns a warning for each change
// to what the file said.
func applyStateDefaults(in *VRRPInstance, prioritySet bool) []string {
	if in.State == StateMaster && !prioritySet {
		in.Priority = 255
	}
	var out []string
	if in.Nopreempt && in.Priority == 255 {
		in.Nopreempt = false
		out = append(out, "nopreempt has no effect with priority 255: cleared, as keepalived does")
	}
	if in.State != StateMaster {
		return out
	}
	if in.Nopreempt {
		in.Nopreempt = false
		out = append(out, "nopreempt has no effect with state MASTER: cleared, as keepalived does")
	}
	if in.PreemptDelay != 0 {
		in.PreemptDelay = 0
		out = append(out, "preempt_delay has no effect with state MASTER: cleared, as keepalived does")
	}
	return out
}

// StaticAddress is one static_ipaddress line: ADDR[/LEN] dev IF [scope
// SCOPE] [label LABEL] [brd ADDR|+|-] [peer ADDR] [home] [mngtmpaddr]
// [noprefixroute] [autojoin] [-nodad] [preferred_lft N|forever].
type StaticAddress struct {
	Pos    Pos
	Prefix netip.Prefix
	Dev    string
	Label  string
	// Scope is the address scope (0 global, 200 site, 253 link, 254
	// host).
	Scope uint8
	// Broadcast is the IPv4 broadcast address; invalid: none.
	Broadcast netip.Addr
	AddrSettings
}

// RouteType is a route's kernel type.
type RouteType string

// Route types keepalived.conf names before a destination.
const (
	RouteUnicast     RouteType = "unicast"
	RouteBlackhole   RouteType = "blackhole"
	RouteUnreachable RouteType = "unreachable"
	RouteProhibit    RouteType = "prohibit"
)

// RouteMode is how a route is added when the table holds another route
// to the same destination: keepalived's prepend (its default, before the
// others), add (refused when one exists) or append (after the others).
type RouteMode string

// Route modes.
const (
	RoutePrepend RouteMode = "prepend"
	RouteAdd     RouteMode = "add"
	RouteAppend  RouteMode = "append"
)

// Route is one static_routes or virtual_routes line, as keepalived 2.2.7
// reads it: [src ADDR] [TYPE] DEST/LEN [via GW | via A or B] [dev IF]
// [scope S] [table N] [metric N] [onlink] [no_track] [add|append|prepend].
type Route struct {
	Pos  Pos
	Type RouteType
	// Dst is the destination; 0.0.0.0/0 or ::/0 for default.
	Dst netip.Prefix
	// Src is the preferred source address (src); invalid: none.
	Src netip.Addr
	// Via is the gateway; invalid: none. Nexthops, when set, are the
	// gateways of a multipath route (keepalived's "via A or B"), and Via
	// is then invalid.
	Via      netip.Addr
	Nexthops []netip.Addr
	Dev      string
	// Scope is the route's scope (0 universe, as keepalived sends it
	// whatever the gateway).
	Scope uint8
	// Table is the routing table (254 main).
	Table uint32
	// Metric is set when MetricSet (metric, priority or preference).
	Metric    uint32
	MetricSet bool
	OnLink    bool
	Mode      RouteMode
	// NoTrack is keepalived's no_track. A route that is tracked (the
	// default) with a dev makes a virtual route's instance track that
	// interface as track_interface does.
	NoTrack bool
}

// Rule is one static_rules or virtual_rules line, as keepalived 2.2.7
// reads it: [from PREFIX] [to PREFIX] table N [priority N] [not]
// [no_track].
type Rule struct {
	Pos Pos
	// IPv6 is the rule's family (inet6, or IPv6 prefixes).
	IPv6 bool
	// From and To are the selectors; invalid: all.
	From, To netip.Prefix
	Invert   bool
	Table    uint32
	// Priority is the rule's preference; keepalived gives a rule
	// without one the next of 16384, 16383, ... per family, in file
	// order.
	Priority uint32
	NoTrack  bool
}
