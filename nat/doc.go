// Package nat toggles the nftables DNAT rule that lets a BACKUP load
// balancer accept the packets the MASTER forwards to it.
//
// In an IPVS direct-routing (DR) cluster whose balancers are also each
// other's real servers, the MASTER forwards some connections to the BACKUP
// without rewriting them: they arrive on the BACKUP's service interface with
// the VIP as destination, an address the BACKUP does not own. While a node is
// BACKUP it therefore redirects them to its own service address:
//
//	table ip lvskit_nat {
//		chain prerouting {
//			type nat hook prerouting priority dstnat; policy accept;
//			iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2
//		}
//	}
//
// and when it becomes MASTER (and owns the VIP) it removes the rule again.
// This is the iptables rule `-A PREROUTING -d VIP -i eth1 -j DNAT
// --to-destination <own eth1 IP>` of the classic keepalived "nat-switch"
// notify script, written natively through netlink with
// github.com/google/nftables: no nft or iptables binary is needed.
//
// # Use
//
//	sw, err := nat.Open(&nat.Config{
//		Interface: "eth1",
//		VIPs:      []netip.Addr{netip.MustParseAddr("192.168.0.100")},
//	})
//	...
//	err = sw.Backup() // rule present
//	err = sw.Master() // rule absent
//
// Open finds the node's own address on the interface (the first primary IPv4
// address that is not a VIP) unless Config.LocalIPv4 gives it. IPv6 VIPs get
// the same rule with ip6 in a table of family ip6 of the same name.
//
// Backup and Master are idempotent and can be called in any order, any number
// of times, and from a fresh process: a Switch keeps no state of its own but
// reads its chain, recognizes the rules it writes, and sends only the
// difference, in one atomic nftables batch (nothing when there is nothing to
// do). There is never more than one rule per VIP. The switch lives in its own
// table and chain and never touches any other table; several switches may
// share a table, each managing only the rules of its own VIPs. Cleanup
// deletes the table.
//
// # Draining
//
// A BACKUP's servers (its nginx) are real servers of the MASTER's virtual
// servers, health-checked on the node's own address. Before a node stops
// them, Drain refuses the connections made to that address directly (the
// health checks: TCP reset, ICMP port unreachable) while it keeps
// accepting what the DNAT rules redirect (the clients' traffic the MASTER
// forwards), so the MASTER's checks take the node out and no client
// request is refused meanwhile; Undrain ends it. The rules live in a
// filter chain "drain" at the input hook of the switch's table:
//
//	ip daddr LOCAL tcp dport PORT ct status & dnat == 0 reject with tcp reset
//
// # Marking what the routers send
//
// Where scale-out nodes announce a VIP by BGP and are each other's real
// servers, a Marker (OpenMarker) keeps a table inet lvskit_mark that sets a
// packet mark on what a set of neighbours, known by their link-layer
// addresses (SetSources), send to given addresses and ports:
//
//	ether saddr @sources ip daddr 192.168.100.1 tcp dport 80 meta mark set 0x00000001
//
// A fwmark virtual server then schedules only those packets; what another
// node forwards carries no mark and goes to the local server. Close
// deletes the table.
//
// # keepalived's firewall for VIPs without accept mode
//
// A VIPFilter (OpenVIPFilter) builds the tables keepalived 2.2.7 builds
// for VRRP instances without accept mode, ip and ip6 "keepalived", whose
// sets hold the VIPs the node must neither accept nor send from while it
// is MASTER (SetVIPs), and the rules that send a VMAC's IGMP and MLD
// reports out of its base interface (SetVMACs). Close deletes the tables.
//
// # Privileges
//
// Open and every method need CAP_NET_ADMIN in the network namespace the
// switch works in, and a kernel with nf_tables and its nat support
// (nft_chain_nat, nf_nat). Without them Open fails with an error that says
// nftables is unavailable, having changed nothing.
//
// # Network namespaces
//
// Config.NetNS is a file descriptor of a network namespace (such as one from
// github.com/vishvananda/netns); the interface lookup and every nftables
// request happen there, without moving the calling goroutine. 0 means the
// namespace of the calling thread.
//
// Calls on one Switch are serialized. Separate processes are not: a program
// that may run concurrently with itself, such as a keepalived notify program
// run for quick successive transitions, should hold a lock around its calls,
// as examples/natswitch does.
//
// The package compiles on every platform; off Linux, Open returns
// ErrUnsupported.
package nat
