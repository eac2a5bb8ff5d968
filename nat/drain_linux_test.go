package nat_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/nat"
)

// direct dials the node's own address from client, as another balancer's
// health checks do, and reports the TCP and UDP errors (nil: answered).
func direct(client *netnstest.NS, local netip.Addr) (tcpErr, udpErr error) {
	_ = client.Do(func() error {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(local, 8080).String(), 2*time.Second)
		if err == nil {
			c.Close()
		}
		tcpErr = err
		u, err := net.Dial("udp", netip.AddrPortFrom(local, 5353).String())
		if err != nil {
			udpErr = err
			return nil
		}
		defer u.Close()
		buf := make([]byte, 1500)
		for range 3 {
			u.Write([]byte("ping"))
			u.SetReadDeadline(time.Now().Add(time.Second))
			if _, udpErr = u.Read(buf); udpErr == nil || errors.Is(udpErr, syscall.ECONNREFUSED) {
				return nil
			}
		}
		return nil
	})
	return tcpErr, udpErr
}

// While draining, the node refuses connections made to its own address
// (health checks) and still answers the VIP's traffic that the DNAT rule
// redirects to that address; undrained, it answers both again.
func TestIntegrationDrainRefusesChecksKeepsRedirected(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "sysctl")
	node, client := lanPair(t)
	vip, local := netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("172.16.0.2")
	servers(t, node, local)
	sw := open(t, node, nat.Config{Interface: "eth1", VIPs: []netip.Addr{vip}})
	t.Cleanup(func() { sw.Cleanup() })
	if err := sw.Backup(); err != nil {
		t.Fatal(err)
	}
	if tcpErr, udpErr := direct(client, local); tcpErr != nil || udpErr != nil {
		t.Fatalf("before the drain: direct tcp %v, udp %v", tcpErr, udpErr)
	}

	if err := sw.Drain([]nat.Port{{Proto: "tcp", Port: 8080}, {Proto: "udp", Port: 5353}}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	// Twice: it replaces the chain rather than adding rules.
	if err := sw.Drain([]nat.Port{{Proto: "tcp", Port: 8080}, {Proto: "udp", Port: 5353}}); err != nil {
		t.Fatalf("Drain again: %v", err)
	}
	if n := strings.Count(node.Run(t, "nft", "list", "chain", "ip", nat.DefaultTable, nat.DefaultDrainChain), "reject"); n != 2 {
		t.Errorf("drain chain has %d reject rules, want 2", n)
	}
	tcpErr, udpErr := direct(client, local)
	if !errors.Is(tcpErr, syscall.ECONNREFUSED) {
		t.Errorf("draining: direct tcp = %v, want connection refused", tcpErr)
	}
	if !errors.Is(udpErr, syscall.ECONNREFUSED) {
		t.Errorf("draining: direct udp = %v, want connection refused (port unreachable)", udpErr)
	}
	tcpReply, udpReply, _, err := exchange(client, vip)
	if err != nil || !strings.HasPrefix(tcpReply, "tcp ping") || !strings.HasPrefix(udpReply, "udp ping") {
		t.Errorf("draining: through the VIP: %q, %q, %v; want both answered", tcpReply, udpReply, err)
	}

	if err := sw.Undrain(); err != nil {
		t.Fatalf("Undrain: %v", err)
	}
	if err := sw.Undrain(); err != nil {
		t.Fatalf("Undrain again: %v", err)
	}
	if tcpErr, udpErr := direct(client, local); tcpErr != nil || udpErr != nil {
		t.Errorf("after Undrain: direct tcp %v, udp %v", tcpErr, udpErr)
	}
	if err := sw.Drain([]nat.Port{{Proto: "sctp", Port: 1}}); err == nil || !strings.Contains(err.Error(), `"sctp"`) {
		t.Errorf("Drain(sctp) = %v, want an error naming the protocol", err)
	}
}
