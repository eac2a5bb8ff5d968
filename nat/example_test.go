package nat_test

import (
	"log"
	"net/netip"

	"github.com/lvskit/lvskit/nat"
)

// A node's VRRP state drives the switch: BACKUP adds the DNAT rule for the
// VIP, MASTER removes it. (Needs CAP_NET_ADMIN and an interface eth1 with an
// IPv4 address, so it is compiled but not run.)
func ExampleSwitch() {
	sw, err := nat.Open(&nat.Config{
		Interface: "eth1",
		VIPs:      []netip.Addr{netip.MustParseAddr("192.168.0.100")},
	})
	if err != nil {
		log.Fatal(err) // names the field and value, e.g. `Interface "eth1": no such interface`
	}
	defer sw.Close()

	onState := func(state string) error {
		if state == "MASTER" {
			return sw.Master() // the VIP is ours now: no rule
		}
		return sw.Backup() // iifname "eth1" ip daddr 192.168.0.100 dnat to <eth1's address>
	}
	if err := onState("BACKUP"); err != nil {
		log.Fatal(err)
	}
}
