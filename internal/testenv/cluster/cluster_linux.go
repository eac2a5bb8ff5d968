package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/vishvananda/netlink"
)

// The article's addresses.
var (
	VIP        = netip.MustParseAddr("192.168.0.100")
	ClientAddr = netip.MustParseAddr("192.168.0.254")
)

// Balancer is one balancer node's namespace and addresses.
type Balancer struct {
	Name string
	NS   *topology.NS
	LAN  netip.Addr // eth0
	SVC  netip.Addr // eth1
}

// Cluster is the article's topology with its servers running.
type Cluster struct {
	Topology  *topology.Topology
	Client    *topology.NS
	Balancers []*Balancer
	Web       []*WebServer
	DNS       []*DNSServer

	webNS []*topology.NS // the namespace of each of Web
}

// Build creates the topology with namespaces of unique random names (for
// tests) and starts the web and DNS servers. On error everything built so
// far is removed.
func Build() (*Cluster, error) {
	tp, err := topology.New("")
	if err != nil {
		return nil, err
	}
	return build(tp)
}

// BuildNamed is Build with the namespaces called exactly "switch",
// "client", "lb1", "lb2", "web1".."web3" and "dns1", "dns2", as in the
// article (for the demo: `ip netns exec lb1 ipvsadm -Ln` works).
func BuildNamed() (*Cluster, error) {
	tp, err := topology.NewExact("")
	if err != nil {
		return nil, err
	}
	return build(tp)
}

func build(tp *topology.Topology) (c *Cluster, err error) {
	c = &Cluster{Topology: tp}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	for _, br := range []string{"lan", "svc"} {
		if err := tp.Bridge(br); err != nil {
			return nil, err
		}
	}
	if c.Client, err = tp.Host("client"); err != nil {
		return nil, err
	}
	if err := tp.Connect(c.Client, "eth0", "lan", ClientAddr.String()+"/24"); err != nil {
		return nil, err
	}
	for i := 1; i <= 2; i++ {
		b := &Balancer{
			Name: fmt.Sprintf("lb%d", i),
			LAN:  netip.AddrFrom4([4]byte{192, 168, 0, byte(10 + i)}),
			SVC:  netip.AddrFrom4([4]byte{172, 16, 0, byte(i)}),
		}
		if b.NS, err = tp.Host(b.Name); err != nil {
			return nil, err
		}
		if err := tp.Connect(b.NS, "eth0", "lan", b.LAN.String()+"/24"); err != nil {
			return nil, err
		}
		if err := tp.Connect(b.NS, "eth1", "svc", b.SVC.String()+"/24"); err != nil {
			return nil, err
		}
		c.Balancers = append(c.Balancers, b)
	}
	for i := 1; i <= 3; i++ {
		w := &WebServer{Name: fmt.Sprintf("server-%d", i), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 0, byte(100 + i)}), 80)}
		h, err := tp.Host(fmt.Sprintf("web%d", i))
		if err != nil {
			return nil, err
		}
		if err := tp.Connect(h, "eth0", "lan", w.Addr.Addr().String()+"/24"); err != nil {
			return nil, err
		}
		c.Web = append(c.Web, w)
		c.webNS = append(c.webNS, h)
		if err := c.WebUp(i - 1); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= 2; i++ {
		d := &DNSServer{Name: fmt.Sprintf("dns%d", i), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 0, byte(200 + i)}), 53)}
		h, err := tp.Host(d.Name)
		if err != nil {
			return nil, err
		}
		if err := tp.Connect(h, "eth0", "lan", d.Addr.Addr().String()+"/24"); err != nil {
			return nil, err
		}
		var pc net.PacketConn
		if err := h.Do(func() (err error) { pc, err = net.ListenPacket("udp4", d.Addr.String()); return err }); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		d.Serve(pc)
		c.DNS = append(c.DNS, d)
	}
	return c, nil
}

// Close stops the servers and removes every namespace. Processes started in
// the namespaces must be stopped first.
func (c *Cluster) Close() error {
	var errs []error
	for _, w := range c.Web {
		errs = append(errs, w.Close())
	}
	for _, d := range c.DNS {
		errs = append(errs, d.Close())
	}
	errs = append(errs, c.Topology.Close())
	return errors.Join(errs...)
}

// HasVIP reports whether the balancer holds the VIP on eth0, that is,
// whether it is the VRRP MASTER.
func (b *Balancer) HasVIP() bool {
	nl, err := b.NS.Netlink()
	if err != nil {
		return false
	}
	l, err := nl.LinkByName("eth0")
	if err != nil {
		return false
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == VIP {
			return true
		}
	}
	return false
}
