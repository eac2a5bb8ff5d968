package ipvs_test

import (
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"strings"

	"github.com/lvskit/lvskit/ipvs"
)

// The article's service: the VIP balanced with wlc over both nodes' nginx,
// by direct routing.
func Example() {
	c, err := ipvs.Dial(nil)
	if errors.Is(err, ipvs.ErrNotAvailable) {
		log.Fatal("load the ip_vs module first")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	desired := &ipvs.Table{Services: []ipvs.VirtualServer{{
		Service: ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80, Scheduler: "wlc"},
		Destinations: []ipvs.Destination{
			{Address: netip.MustParseAddr("172.16.0.1"), Forward: ipvs.Route, Weight: 1},
			{Address: netip.MustParseAddr("172.16.0.2"), Forward: ipvs.Route, Weight: 1},
		},
	}}}
	ops, err := c.Reconcile(desired, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ops), "changes")
}

func ExamplePlan() {
	vip := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80, Scheduler: "wlc"}
	lb1 := ipvs.Destination{Address: netip.MustParseAddr("172.16.0.1"), Forward: ipvs.Route, Weight: 1}
	lb2 := ipvs.Destination{Address: netip.MustParseAddr("172.16.0.2"), Forward: ipvs.Route, Weight: 1}
	current := &ipvs.Table{Services: []ipvs.VirtualServer{{Service: vip, Destinations: []ipvs.Destination{lb1, lb2}}}}

	// lb2 fails its health check: weight 0, existing connections stay.
	lb2.Weight = 0
	desired := &ipvs.Table{Services: []ipvs.VirtualServer{{Service: vip, Destinations: []ipvs.Destination{lb1, lb2}}}}
	ops, err := ipvs.Plan(current, desired, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range ops {
		fmt.Println(o)
	}
	// Output:
	// -e -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 0
}

func ExampleParseRules() {
	ops, err := ipvs.ParseRules(strings.NewReader(`
-A -t 192.168.0.100:80 -s wlc
-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w oops
`))
	fmt.Println(ops, err)
	// Output:
	// [] line 4: "oops": want a number in 0..65535
}

func ExampleWriteList() {
	t := &ipvs.Table{Services: []ipvs.VirtualServer{{
		Service:      ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80, Scheduler: "wlc"},
		Destinations: []ipvs.Destination{{Address: netip.MustParseAddr("172.16.0.1"), Port: 80, Forward: ipvs.Route, Weight: 1}},
	}}}
	ipvs.WriteList(os.Stdout, ipvs.Info{Version: 0x010201, ConnTableSize: 4096}, t, ipvs.ListFormat{})
	// Output:
	// IP Virtual Server version 1.2.1 (size=4096)
	// Prot LocalAddress:Port Scheduler Flags
	//   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
	// TCP  192.168.0.100:80 wlc
	//   -> 172.16.0.1:80                Route   1      0          0
}

// Restore applies ipvsadm -S lines as ipvsadm -R does, and names the lines
// whose operations the kernel refused.
func ExampleClient_Restore() {
	c, err := ipvs.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = c.Restore(os.Stdin)
	var re *ipvs.RestoreError
	if errors.As(err, &re) {
		for _, le := range re.Errors {
			fmt.Fprintln(os.Stderr, le) // such as "line 3: ipvs add-service TCP 10.0.0.1:80: already exists (file exists)"
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}

// A dry run of a desired table read from a file of -A and -a lines.
func ExampleReadTable() {
	desired, err := ipvs.ReadTable(strings.NewReader(`
-A -t 192.168.0.100:80 -s wlc
-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
`))
	if err != nil {
		log.Fatal(err)
	}
	ops, err := ipvs.Plan(&ipvs.Table{}, desired, nil)
	if err != nil {
		log.Fatal(err)
	}
	ipvs.WriteOps(os.Stdout, ops)
	// Output:
	// -A -t 192.168.0.100:80 -s wlc
	// -a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
}
