package lvskit_test

import (
	"context"
	"log"
	"net/netip"

	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/vrrp"
)

// Example embeds a balancer node in an agent of one's own: VRRP floats the
// VIP, the NAT switch follows the VRRP state, IPVS gets its services. It
// needs root and the article's interfaces, so it is compiled, not run.
func Example() {
	ctx := context.Background()
	vip := netip.MustParseAddr("192.168.0.100")
	sw, err := nat.Open(&nat.Config{Interface: "eth1", VIPs: []netip.Addr{vip}})
	if err != nil {
		log.Fatal(err)
	}
	states := make(chan vrrp.State, 16) // OnTransition must not block
	r, err := vrrp.Open([]vrrp.Config{{
		Interface: "eth1", VRID: 1, Priority: 102, AuthPass: "secret",
		VIPs: []netip.Prefix{netip.PrefixFrom(vip, 24)}, VIPInterface: "eth0",
	}}, &vrrp.Options{OnTransition: func(t vrrp.Transition) { states <- t.To }})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for st := range states {
			if st == vrrp.StateMaster || st == vrrp.StateStopped {
				_ = sw.Master() // the VIP is local: no DNAT
			} else {
				_ = sw.Backup() // accept what the MASTER's IPVS forwards
			}
		}
	}()
	c, err := ipvs.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	web := ipvs.Service{Protocol: ipvs.TCP, Address: vip, Port: 80, Scheduler: "wlc"}
	var dests []ipvs.Destination
	for _, rs := range []string{"172.16.0.1", "172.16.0.2"} {
		dests = append(dests, ipvs.Destination{Address: netip.MustParseAddr(rs), Port: 80, Forward: ipvs.Route, Weight: 1})
	}
	if _, err := c.Reconcile(&ipvs.Table{Services: []ipvs.VirtualServer{{Service: web, Destinations: dests}}}, nil); err != nil {
		log.Fatal(err)
	}
	log.Fatal(r.Run(ctx))
}
