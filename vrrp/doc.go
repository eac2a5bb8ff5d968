// Package vrrp is a VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798/9568) speaker
// that interoperates with keepalived: it moves floating virtual IPv4 and
// IPv6 addresses (VIPs) between the nodes of a cluster.
//
// The package has a pure core and a thin Linux shell.
//
// The core is the advertisement codec (Advert, with golden bytes sent by
// keepalived for v2 and for v3 over IPv4 and IPv6) and the state machine
// (Machine). A Machine reads no
// clock and touches no socket: feed it an Event (start, stop, a received
// packet, a link change, or the timer whose deadline Deadline reports)
// with the current time, and carry out the returned Actions in order (send
// an advertisement, add or remove the VIPs, send gratuitous ARPs, report a
// Transition). Receive validation (family, TTL or hop limit 255, version,
// length, checksum, VRID, authentication compared in constant time and
// interval for v2, unicast peers, address list) happens there, so tests
// exercise what production runs.
//
// # VRRPv3 and IPv6
//
// Config.Version 3 sends intervals in centiseconds (10 ms to 40.95 s),
// without authentication, with a checksum over the IPv4 or IPv6
// pseudo-header, as keepalived 2.2.7 does. A BACKUP adopts the interval
// the master advertises: Master_Down_Interval is 3 * interval +
// (256 - priority) * interval / 256, 36.09375 ms for 10 ms at priority 100.
// An instance whose VIPs are IPv6 (or with Config.IPv6) is VRRPv3 over
// IPv6: adverts from the interface's link-local address to ff02::12 (or
// Config.Group) with hop limit 255, checked on receive; VIPs added
// without duplicate address detection; unsolicited neighbour
// advertisements (github.com/mdlayher/ndp) where IPv4 sends gratuitous
// ARP, with the same repeat, delay and refresh. IPv4 and IPv6 instances
// can share a Router; each family has its own VRIDs. Adverts every 10 ms
// need the process to be scheduled on time: on a busy host, call
// SetRealtimePriority (vrrpd -rt-priority), as keepalived's
// vrrp_rt_priority.
//
// A Router runs one or more instances (VRIDs) that share an advertisement
// interface. New builds one over any Conn and Host, which is how the tests
// drive it over an in-memory segment under testing/synctest (package
// vrrptest has that segment and a fake Host, for embedding programs' tests
// too). Open builds one on Linux:
//
//   - advertisements over a raw IP socket (protocol 112, golang.org/x/net/ipv4)
//     bound to the interface, joined to 224.0.0.18 there, TTL 255, TOS 0xc0,
//     multicast loop off, with TTL, destination and interface control
//     messages; or to each unicast peer; for IPv6 instances a raw IPv6
//     socket (golang.org/x/net/ipv6) joined to ff02::12, with the kernel
//     computing and checking the checksum;
//   - VIPs, and ExcludedVIPs that the adverts do not carry, added and
//     removed with rtnetlink, each on its own interface with its label,
//     scope, broadcast address, peer and flags (AddrOptions, keepalived's
//     virtual_ipaddress options), idempotently: a VIP present at start is
//     removed on BACKUP; their deletion by someone else followed, so that
//     a MASTER resigns and comes back with them, as keepalived does;
//   - gratuitous ARP over AF_PACKET on each address's interface: the
//     advertisement first, then a burst, a second burst after GARPDelay,
//     an optional refresh, and optional rounds on the other interfaces
//     (GARPExtraInterval), paced per interface or per GARPGroup;
//   - tracked interfaces (the advertisement interface unless
//     DontTrackPrimary, and those of the addresses) followed with
//     rtnetlink link notifications: one down means FAULT;
//   - the adverts' source address followed with rtnetlink address
//     notifications, unless configured (UnicastSrc): when it is deleted
//     the interface's next address takes over, and when none is left the
//     instance resigns and is FAULT until one is added, as keepalived
//     does, and an interface without one at start holds it in FAULT
//     until it has one (ErrNoAddress). A source the host does not have
//     (any more) is still sent from, the socket transparent
//     (IP_TRANSPARENT) for that send only, as keepalived, which writes its
//     own IP header, sends from it: a configured source deleted from the
//     host, and the resignation from a deleted source;
//   - with Config.VMAC (keepalived's use_vmac), a private macvlan with the
//     virtual MAC 00:00:5e:00:01:VRID (IPv6 00:00:5e:00:02:VRID) on the
//     interface, carrying the VIPs and, unless VMAC.XmitBase, the adverts,
//     with the sysctls keepalived sets for it; removed, and the sysctls
//     restored, when Run returns.
//
// Received advertisements carry the kernel's receive time, so the timers
// they restart count from the packet's arrival, not from when the Router
// got to it. The timers are Go timers (time.Timer), the same in a Router
// from New under testing/synctest as in one from Open.
//
// Router.Reconfigure applies new settings to running instances in place,
// keeping their states (keepalived's reload): priority, interval, VIPs,
// password, preemption, unicast peers and gratuitous ARP settings.
//
// Transitions come out in order, each with the old and new state and a
// typed Cause ("master down timer expired", "higher priority 150 from
// 172.16.0.2", "priority 0 from 172.16.0.2", "interface eth0 down",
// "shutdown"). Counters are a plain Stats struct per instance.
//
// # Privileges
//
// Open needs CAP_NET_RAW (raw and packet sockets) and CAP_NET_ADMIN
// (addresses). New with your own Conn and Host needs nothing.
//
// # Network namespaces
//
// Options.NetNS is a file descriptor of a network namespace (such as one
// from github.com/vishvananda/netns), the same as ipvs.Config.NetNS and
// nat.Config.NetNS; 0 means the namespace of the calling thread. Open
// opens every socket there, the rtnetlink handle and link notifications
// included; the calling goroutine's namespace never changes. Off Linux,
// Open returns ErrUnsupported.
package vrrp
