package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"golang.org/x/net/dns/dnsmessage"
)

// twoHosts builds lb (10.0.0.1) and srv (10.0.0.2) on one bridge.
func twoHosts(t *testing.T) (lb, srv *netnstest.NS) {
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	lb, srv = tp.Host("lb"), tp.Host("srv")
	tp.Connect(lb, "eth0", "lan", "10.0.0.1/24")
	tp.Connect(srv, "eth0", "lan", "10.0.0.2/24")
	// Wait until the link carries traffic (bounded: 20 pings at most).
	for i := 0; ; i++ {
		if err := lb.Command("ping", "-c1", "-W1", "10.0.0.2").Run(); err == nil {
			break
		} else if i == 20 {
			t.Fatalf("10.0.0.2 unreachable from lb: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return lb, srv
}

// inNS runs every check of c on a thread inside ns, so that a Monitor
// running in the test's own namespace checks from ns.
type inNS struct {
	ns *netnstest.NS
	c  Checker
}

func (n inNS) Check(ctx context.Context) Result {
	var r Result
	if err := n.ns.Do(func() error { r = n.c.Check(ctx); return nil }); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	return r
}

// checkIn runs c in ns and returns the result and how long it took.
func checkIn(t *testing.T, ns *netnstest.NS, c Checker) (Result, time.Duration) {
	t.Helper()
	var r Result
	var took time.Duration
	if err := ns.Do(func() error {
		start := time.Now()
		r = c.Check(context.Background())
		took = time.Since(start)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return r, took
}

func TestIntegrationTCPBlackholedByNftables(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft")
	lb, srv := twoHosts(t)
	var ln net.Listener
	if err := srv.Do(func() (err error) {
		ln, err = net.Listen("tcp", "10.0.0.2:8080")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const timeout = time.Second
	check := &TCP{Addr: netip.MustParseAddrPort("10.0.0.2:8080"), Timeout: timeout}

	if r, _ := checkIn(t, lb, check); !r.Up {
		t.Fatalf("before the drop rule: %v, want up", r)
	}
	srv.Run(t, "nft", "add table inet lvskit_hc")
	srv.Run(t, "nft", "add chain inet lvskit_hc in { type filter hook input priority 0 ; }")
	srv.Run(t, "nft", "add rule inet lvskit_hc in tcp dport 8080 drop")

	r, took := checkIn(t, lb, check)
	checkResult(t, r, resultWant{false, "connect timed out after 1s"})
	if took < timeout || took > timeout+2*time.Second {
		t.Errorf("blackholed check took %v, want the timeout %v and not much more", took, timeout)
	}
	// The closed port next to it is refused at once: the difference is the rule.
	r, took = checkIn(t, lb, &TCP{Addr: netip.MustParseAddrPort("10.0.0.2:8081"), Timeout: timeout})
	checkResult(t, r, resultWant{false, "connection refused"})
	if took >= timeout {
		t.Errorf("refused check took %v, want well under the timeout", took)
	}
}

func TestIntegrationUDPAndDNSAcrossHosts(t *testing.T) {
	netnstest.RequirePrivileged(t)
	lb, srv := twoHosts(t)
	var pc net.PacketConn
	if err := srv.Do(func() (err error) {
		pc, err = net.ListenPacket("udp", "10.0.0.2:53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	serveDNS(t, pc, func(q dnsmessage.Message) [][]byte {
		rc := dnsmessage.RCodeSuccess
		if len(q.Questions) == 1 && q.Questions[0].Name.String() != "." {
			rc = dnsmessage.RCodeNameError
		}
		return [][]byte{answer(t, q, rc, 0)}
	})
	query, err := buildQuery(7, dnsmessage.Question{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET})
	if err != nil {
		t.Fatal(err)
	}
	dnsAddr := netip.MustParseAddrPort("10.0.0.2:53")
	tests := []struct {
		name    string
		check   Checker
		want    resultWant
		maxTook time.Duration
	}{
		{"UDP to the DNS responder is up", &UDP{Addr: dnsAddr, Payload: query, Timeout: 2 * time.Second}, resultWant{true, "reply received"}, time.Second},
		{"UDP closed port is down through the remote ICMP", &UDP{Addr: netip.MustParseAddrPort("10.0.0.2:54"), Timeout: 2 * time.Second}, resultWant{false, "port unreachable (ICMP)"}, time.Second},
		{"DNS SOA of the root is up", &DNS{Addr: dnsAddr, Timeout: 2 * time.Second}, resultWant{true, "NOERROR"}, time.Second},
		{"DNS NXDOMAIN is down", &DNS{Addr: dnsAddr, Name: "missing.lvskit.test", Timeout: 2 * time.Second}, resultWant{false, "NXDOMAIN"}, time.Second},
		// No host answers ARP for 10.0.0.99: nc -zu sees silence and reports
		// success; the kernel's host unreachable is reported here instead.
		{"UDP to an absent host is down, not silent", &UDP{Addr: netip.MustParseAddrPort("10.0.0.99:53"), Timeout: 6 * time.Second, Wait: 5 * time.Second}, resultWant{false, "no route to host"}, 5 * time.Second},
		{"UDP from the right source and interface is up", &UDP{Addr: dnsAddr, Payload: query, Timeout: 2 * time.Second,
			Bind: Bind{Source: netip.MustParseAddr("10.0.0.1"), Interface: "eth0"}}, resultWant{true, "reply received"}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, took := checkIn(t, lb, tt.check)
			checkResult(t, r, tt.want)
			if took > tt.maxTook {
				t.Errorf("check took %v, want at most %v", took, tt.maxTook)
			}
		})
	}
}

// TestIntegrationMonitorAcrossHosts runs a Monitor in lb against a web
// server in srv and cuts the server off with nftables.
func TestIntegrationMonitorAcrossHosts(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft")
	lb, srv := twoHosts(t)
	var ln net.Listener
	if err := srv.Do(func() (err error) {
		ln, err = net.Listen("tcp", "10.0.0.2:80")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	m, err := New(&Config{NoSpread: true}, Target{Name: "web", Interval: 200 * time.Millisecond, Timeout: 300 * time.Millisecond, Fall: 2,
		Checker: inNS{lb, &TCP{Addr: netip.MustParseAddrPort("10.0.0.2:80")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go m.Run(ctx)
	next := func(want EventKind) Event {
		t.Helper()
		select {
		case ev := <-m.Events():
			if ev.Kind != want {
				t.Fatalf("event %v, want %v", ev, want)
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v event within 10s", want)
		}
		return Event{}
	}
	next(EventUp) // initial
	srv.Run(t, "nft", "add table inet lvskit_hc")
	srv.Run(t, "nft", "add chain inet lvskit_hc in { type filter hook input priority 0 ; }")
	srv.Run(t, "nft", "add rule inet lvskit_hc in tcp dport 80 drop")
	ev := next(EventDown)
	if !strings.Contains(ev.Reason, "timed out") {
		t.Errorf("down reason %q, want a timeout", ev.Reason)
	}
	srv.Run(t, "nft", "delete table inet lvskit_hc")
	next(EventUp)
}
