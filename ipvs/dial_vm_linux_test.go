package ipvs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/ipvs"
)

// TestVMDialLargeTable reads and writes a table whose dumps take many
// datagrams and whose writes take several batches, through Dial's socket.
func TestVMDialLargeTable(t *testing.T) {
	ns, c := ipvsNS(t)
	const nServices, nDests = 300, 1000
	big := svc(ipvs.TCP, "10.0.0.1:80", "wlc")
	ops := []ipvs.Op{{Kind: ipvs.AddService, Service: big}}
	for i := range nDests {
		d := dst(fmt.Sprintf("10.1.%d.%d:8080", i/250, 1+i%250), ipvs.Masquerade, uint32(1+i%7))
		ops = append(ops, ipvs.Op{Kind: ipvs.AddDestination, Service: big, Destination: d})
	}
	for i := range nServices {
		s := svc(ipvs.UDP, fmt.Sprintf("10.2.%d.%d:53", i/250, 1+i%250), "rr")
		ops = append(ops, ipvs.Op{Kind: ipvs.AddService, Service: s})
	}
	if err := c.Apply(ops); err != nil {
		t.Fatalf("Apply of %d operations: %v", len(ops), err)
	}

	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Services) != 1+nServices {
		t.Fatalf("Table has %d services, want %d", len(tab.Services), 1+nServices)
	}
	ds, err := c.Destinations(big)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != nDests {
		t.Fatalf("Destinations has %d entries, want %d", len(ds), nDests)
	}
	want := ipvsadm(t, ns, "", "-Sn")
	if got := saveText(t, c); got != want {
		t.Errorf("WriteRules differs from ipvsadm -Sn: %d lines vs %d", strings.Count(got, "\n"), strings.Count(want, "\n"))
	}

	// A batch in which every request fails: each failure is read and
	// reported, and the connection stays in step.
	again := ops[1:257]
	err = c.Apply(again)
	var ae *ipvs.ApplyError
	if !errors.As(err, &ae) || len(ae.Errors) != len(again) {
		t.Fatalf("Apply of %d existing destinations: %v, want %d failures", len(again), err, len(again))
	}
	for i, e := range ae.Errors {
		if !errors.Is(e, ipvs.ErrExists) || e.Index != i {
			t.Fatalf("failure %d: %v (index %d), want ErrExists at index %d", i, e, e.Index, i)
		}
	}
	if _, err := c.Service(big); err != nil {
		t.Errorf("Service after the failed batch: %v", err)
	}
}
