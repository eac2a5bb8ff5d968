package ipvs

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Family is an address family as IPVS numbers it (AF_INET, AF_INET6).
type Family uint16

// Address families.
const (
	IPv4 Family = 2
	IPv6 Family = 10
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// familyOf returns the family of a valid address.
func familyOf(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// Protocol is the transport protocol of a virtual service.
type Protocol uint16

// Protocols IPVS balances.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "protocol(" + strconv.Itoa(int(p)) + ")"
}

// ServiceFlags are the IP_VS_SVC_F_* flags of a service.
type ServiceFlags uint32

// Service flags. The SCHED flags mean "fallback" and "port" for the sh and mh
// schedulers.
const (
	FlagPersistent ServiceFlags = 0x1
	FlagHashed     ServiceFlags = 0x2 // set by the kernel, ignored when writing
	FlagOnePacket  ServiceFlags = 0x4
	FlagSched1     ServiceFlags = 0x8
	FlagSched2     ServiceFlags = 0x10
	FlagSched3     ServiceFlags = 0x20

	FlagSHFallback = FlagSched1
	FlagSHPort     = FlagSched2
	FlagMHFallback = FlagSched1
	FlagMHPort     = FlagSched2
)

// userFlags are the flags a caller may set; the rest are kernel-internal.
const userFlags = FlagPersistent | FlagOnePacket | FlagSched1 | FlagSched2 | FlagSched3

// KnownSchedulers returns the scheduler names of the mainline kernel. Each is
// the module ip_vs_<name>.
func KnownSchedulers() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}
}

// Service is an IPVS virtual service. It is identified by Family and FWMark
// when FWMark is not zero, otherwise by Protocol, Address and Port.
type Service struct {
	// Family is the address family. It may be left zero when Address is set;
	// a firewall-mark service needs it (zero means IPv4).
	Family   Family
	Protocol Protocol
	Address  netip.Addr
	Port     uint16
	FWMark   uint32

	// Scheduler is the scheduler name, such as "wlc" (the default when empty).
	Scheduler string
	Flags     ServiceFlags
	// Timeout is the persistence timeout in seconds.
	Timeout uint32
	// Netmask is the persistence granularity as a prefix length; zero means
	// the full length (32 or 128).
	Netmask int
	// PersistenceEngine is the persistence engine name, such as "sip".
	PersistenceEngine string

	// Stats is filled in by reads and ignored by writes.
	Stats Stats
}

// Fam returns the effective address family of the service.
func (s Service) Fam() Family {
	if s.Family != 0 {
		return s.Family
	}
	if s.FWMark == 0 && s.Address.IsValid() {
		return familyOf(s.Address)
	}
	return IPv4
}

// netmaskBits returns the effective netmask prefix length.
func (s Service) netmaskBits() int {
	if s.Netmask != 0 {
		return s.Netmask
	}
	if s.Fam() == IPv6 {
		return 128
	}
	return 32
}

// scheduler returns the effective scheduler name.
func (s Service) scheduler() string {
	if s.Scheduler == "" {
		return DefaultScheduler
	}
	return s.Scheduler
}

// DefaultScheduler is used when Service.Scheduler is empty, as ipvsadm does.
const DefaultScheduler = "wlc"

// Key returns the identity of the service.
func (s Service) Key() ServiceKey {
	k := ServiceKey{Family: s.Fam(), FWMark: s.FWMark}
	if s.FWMark == 0 {
		k.Protocol = s.Protocol
		k.Address = s.Address.Unmap()
		k.Port = s.Port
	}
	return k
}

// String describes the service as ipvsadm names it, e.g. "TCP 10.0.0.1:80"
// or "FWM 1".
func (s Service) String() string { return s.Key().String() }

// ServiceKey is the identity of a virtual service.
type ServiceKey struct {
	Family   Family
	Protocol Protocol
	Address  netip.Addr
	Port     uint16
	FWMark   uint32
}

func (k ServiceKey) String() string {
	if k.FWMark != 0 {
		if k.Family == IPv6 {
			return fmt.Sprintf("FWM %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM %d", k.FWMark)
	}
	return k.Protocol.String() + " " + netip.AddrPortFrom(k.Address, k.Port).String()
}

// ForwardMethod is how packets reach a destination.
type ForwardMethod uint32

// Forwarding methods (IP_VS_CONN_F_*).
const (
	Masquerade ForwardMethod = 0 // NAT, ipvsadm -m
	Local      ForwardMethod = 1
	Tunnel     ForwardMethod = 2 // ipvsadm -i
	Route      ForwardMethod = 3 // direct routing, ipvsadm -g
	Bypass     ForwardMethod = 4
)

func (m ForwardMethod) String() string {
	switch m {
	case Masquerade:
		return "Masq"
	case Local:
		return "Local"
	case Tunnel:
		return "Tunnel"
	case Route:
		return "Route"
	case Bypass:
		return "Bypass"
	}
	return "forward(" + strconv.Itoa(int(m)) + ")"
}

// TunnelType is the encapsulation of a Tunnel destination.
type TunnelType uint8

// Tunnel types.
const (
	TunnelIPIP TunnelType = 0
	TunnelGUE  TunnelType = 1
	TunnelGRE  TunnelType = 2
)

func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return "tunnel(" + strconv.Itoa(int(t)) + ")"
}

// TunnelFlags are the checksum options of a GUE or GRE tunnel.
type TunnelFlags uint16

// Tunnel flags (values, not bits).
const (
	TunnelNoChecksum     TunnelFlags = 0
	TunnelChecksum       TunnelFlags = 1
	TunnelRemoteChecksum TunnelFlags = 2
)

// Destination is a real server of a virtual service.
type Destination struct {
	// Family is the family of Address; it may differ from the service's only
	// with Tunnel forwarding. Zero means the family of Address.
	Family  Family
	Address netip.Addr
	// Port is the real server's port. Zero means the service's port.
	Port           uint16
	Forward        ForwardMethod
	Weight         uint32
	UpperThreshold uint32
	LowerThreshold uint32
	TunnelType     TunnelType
	TunnelPort     uint16
	TunnelFlags    TunnelFlags

	// Read-only counters, filled in by reads.
	ActiveConns     uint32
	InactiveConns   uint32
	PersistentConns uint32
	Stats           Stats
}

// Fam returns the effective address family of the destination.
func (d Destination) Fam() Family {
	if d.Family != 0 {
		return d.Family
	}
	if d.Address.IsValid() {
		return familyOf(d.Address)
	}
	return IPv4
}

// DestinationKey is the identity of a destination within its service.
type DestinationKey struct {
	Address netip.Addr
	Port    uint16
}

// Key returns the destination's identity within service s.
func (d Destination) Key(s Service) DestinationKey {
	return DestinationKey{Address: d.Address.Unmap(), Port: d.port(s)}
}

func (d Destination) port(s Service) uint16 {
	if d.Port == 0 && s.FWMark == 0 {
		return s.Port
	}
	return d.Port
}

func (k DestinationKey) String() string { return netip.AddrPortFrom(k.Address, k.Port).String() }

// Stats are the counters of a service or a destination. Rates are per second
// (bytes per second for InBPS and OutBPS).
type Stats struct {
	Conns      uint64
	InPackets  uint64
	OutPackets uint64
	InBytes    uint64
	OutBytes   uint64
	CPS        uint64
	InPPS      uint64
	OutPPS     uint64
	InBPS      uint64
	OutBPS     uint64
}

// Info describes the kernel's IPVS.
type Info struct {
	// Version is encoded as 0x010201 for 1.2.1.
	Version uint32
	// ConnTableSize is the size of the connection hash table.
	ConnTableSize uint32
}

// VersionString formats Version as "1.2.1".
func (i Info) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", i.Version>>16&0xff, i.Version>>8&0xff, i.Version&0xff)
}

// Timeouts are the connection timeouts in seconds. Zero leaves a value
// unchanged when setting.
type Timeouts struct {
	TCP    uint32
	TCPFin uint32
	UDP    uint32
}

// DaemonState selects the master or the backup connection sync daemon.
type DaemonState uint32

// Sync daemon states.
const (
	DaemonMaster DaemonState = 1
	DaemonBackup DaemonState = 2
)

func (s DaemonState) String() string {
	switch s {
	case DaemonMaster:
		return "master"
	case DaemonBackup:
		return "backup"
	}
	return "daemon(" + strconv.Itoa(int(s)) + ")"
}

// Daemon is a connection synchronisation daemon.
type Daemon struct {
	State     DaemonState
	Interface string
	SyncID    uint32
	// MaxLen is the maximum sync message length; zero leaves the kernel default.
	MaxLen uint16
	// Group is the multicast group (IPv4 or IPv6); invalid means the default.
	Group netip.Addr
	// Port and TTL of the multicast messages; zero means the kernel default.
	Port uint16
	TTL  uint8
}

// VirtualServer is a service with its destinations.
type VirtualServer struct {
	Service      Service
	Destinations []Destination
}

// Table is a whole IPVS table: what the kernel holds, or a desired state.
type Table struct {
	Services []VirtualServer
}
