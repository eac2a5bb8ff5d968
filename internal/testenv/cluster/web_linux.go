package cluster

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
)

// RealServerAddr is the service address of the real server that
// AddRealServer builds: 172.16.0.3, next to the balancers' nginx.
var RealServerAddr = netip.MustParseAddr("172.16.0.3")

// WebUp makes web server i (an index of c.Web) answer again after WebDown:
// it listens anew on its address in its namespace.
func (c *Cluster) WebUp(i int) error {
	if i < 0 || i >= len(c.Web) {
		return fmt.Errorf("web server %d: there are %d", i, len(c.Web))
	}
	w := c.Web[i]
	var l net.Listener
	if err := c.webNS[i].Do(func() (err error) { l, err = net.Listen("tcp4", w.Addr.String()); return err }); err != nil {
		return fmt.Errorf("%s: %w", w.Name, err)
	}
	w.Serve(l)
	return nil
}

// WebDown stops web server i: its address refuses new connections and its
// open ones are closed, as when the server process dies.
func (c *Cluster) WebDown(i int) error {
	if i < 0 || i >= len(c.Web) {
		return fmt.Errorf("web server %d: there are %d", i, len(c.Web))
	}
	return c.Web[i].Close()
}

// AddRealServer builds a direct-routing real server beside the balancers'
// nginx, as an operator adds one to a virtual server: host "web4" with
// 192.168.0.104 on the lan and RealServerAddr on the service network, the
// VIP on its loopback (with arp_ignore 1 and arp_announce 2, so that it
// never answers ARP for the VIP), and a web server on port 80 of every
// address that answers "Hello from server-4 !". It answers the balancers'
// TCP checks on RealServerAddr:80 and the client's requests that IPVS
// forwards to it, replying to the client on the lan directly. It is
// appended to c.Web; call it once.
func (c *Cluster) AddRealServer() (*WebServer, error) {
	h, err := c.Topology.Host("web4")
	if err != nil {
		return nil, err
	}
	// Before any address exists, so that no ARP for the VIP is answered.
	for _, kv := range []string{"net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"} {
		if out, err := h.Command("sysctl", "-qw", kv).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("web4: sysctl %s: %v: %s", kv, err, strings.TrimSpace(string(out)))
		}
	}
	if err := c.Topology.Connect(h, "eth0", "lan", "192.168.0.104/24"); err != nil {
		return nil, err
	}
	if err := c.Topology.Connect(h, "eth1", "svc", RealServerAddr.String()+"/24"); err != nil {
		return nil, err
	}
	nl, err := h.Netlink()
	if err != nil {
		return nil, err
	}
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return nil, fmt.Errorf("web4: lo: %w", err)
	}
	vip, _ := netlink.ParseAddr(VIP.String() + "/32")
	if err := nl.AddrAdd(lo, vip); err != nil {
		return nil, fmt.Errorf("web4: VIP on lo: %w", err)
	}
	w := &WebServer{Name: "server-4", Addr: netip.AddrPortFrom(netip.IPv4Unspecified(), 80)}
	c.Web = append(c.Web, w)
	c.webNS = append(c.webNS, h)
	if err := c.WebUp(len(c.Web) - 1); err != nil {
		return nil, err
	}
	return w, nil
}
