package nat_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/nat"
	"github.com/vishvananda/netlink"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// rulesetOf returns `nft list ruleset` inside ns.
func rulesetOf(t *testing.T, ns *netnstest.NS, args ...string) string {
	t.Helper()
	return ns.Run(t, "nft", append(args, "list", "ruleset")...)
}

func checkRuleset(t *testing.T, ns *netnstest.NS, want string) {
	t.Helper()
	if diff := cmp.Diff(want, rulesetOf(t, ns)); diff != "" {
		t.Errorf("nft list ruleset (-want +got):\n%s", diff)
	}
}

func disableDAD(t *testing.T, nss ...*netnstest.NS) {
	t.Helper()
	for _, ns := range nss {
		ns.Run(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
}

// lanPair builds the article's service network: a node (the BACKUP) and a
// client standing in for the MASTER's IPVS, which routes the VIPs via the
// node's service address as IPVS DR would forward them.
func lanPair(t *testing.T) (node, client *netnstest.NS) {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	node = tp.Host("node")
	client = tp.Host("client")
	disableDAD(t, node, client)
	tp.Connect(node, "eth1", "svc", "172.16.0.2/24", "fd00:1::2/64")
	tp.Connect(client, "eth1", "svc", "172.16.0.1/24", "fd00:1::1/64")
	client.Run(t, "ip", "route", "add", "192.168.0.100/32", "via", "172.16.0.2", "dev", "eth1")
	client.Run(t, "ip", "-6", "route", "add", "fd00::100/128", "via", "fd00:1::2", "dev", "eth1")
	return node, client
}

func open(t *testing.T, ns *netnstest.NS, cfg nat.Config) *nat.Switch {
	t.Helper()
	cfg.NetNS = int(ns.Handle())
	sw, err := nat.Open(&cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { sw.Close() })
	return sw
}

// servers runs a TCP and a UDP responder on the node's own address. Each
// answers with the address it saw the request come from.
func servers(t *testing.T, node *netnstest.NS, local netip.Addr) {
	t.Helper()
	var ln net.Listener
	var pc net.PacketConn
	err := node.Do(func() error {
		var err error
		if ln, err = net.Listen("tcp", netip.AddrPortFrom(local, 8080).String()); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", netip.AddrPortFrom(local, 5353).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); pc.Close(); wg.Wait() })
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Fprintf(c, "tcp %s from %s\n", strings.TrimSpace(line), c.RemoteAddr())
			c.Close()
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(fmt.Sprintf("udp %s from %s", buf[:n], from)), from)
		}
	}()
}

// exchange sends one TCP request and one UDP datagram from client to
// vip and returns the answers; the UDP answer's source address is returned
// as seen by the client's unconnected socket.
func exchange(client *netnstest.NS, vip netip.Addr) (tcpReply, udpReply string, udpFrom netip.AddrPort, err error) {
	err = client.Do(func() error {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(vip, 8080).String(), 2*time.Second)
		if err != nil {
			return fmt.Errorf("tcp: %w", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "ping\n")
		if tcpReply, err = bufio.NewReader(c).ReadString('\n'); err != nil {
			return fmt.Errorf("tcp read: %w", err)
		}
		network := "udp4"
		if vip.Is6() {
			network = "udp6"
		}
		pc, err := net.ListenUDP(network, nil)
		if err != nil {
			return err
		}
		defer pc.Close()
		buf := make([]byte, 1500)
		for range 3 {
			if _, err := pc.WriteToUDPAddrPort([]byte("ping"), netip.AddrPortFrom(vip, 5353)); err != nil {
				return fmt.Errorf("udp send: %w", err)
			}
			pc.SetReadDeadline(time.Now().Add(time.Second))
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err == nil {
				udpReply, udpFrom = string(buf[:n]), from
				return nil
			}
		}
		return errors.New("udp: no answer")
	})
	return tcpReply, udpReply, udpFrom, err
}

const wantBackupRuleset = `table ip lvskit_nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2
	}
}
`

const wantMasterRuleset = `table ip lvskit_nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
	}
}
`

func TestIntegrationBackupRedirectsTraffic(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "sysctl")
	node, client := lanPair(t)
	tests := []struct {
		name        string
		vip, local  netip.Addr
		client      string
		rulesetRule string
	}{
		{"ipv4", netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("172.16.0.2"), "172.16.0.1",
			`iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2`},
		{"ipv6", netip.MustParseAddr("fd00::100"), netip.MustParseAddr("fd00:1::2"), "fd00:1::1",
			`iifname "eth1" ip6 daddr fd00::100 dnat to fd00:1::2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers(t, node, tt.local)
			// The local address is found on the interface.
			sw := open(t, node, nat.Config{Interface: "eth1", VIPs: []netip.Addr{tt.vip}})
			if got, want := sw.Wanted(), []nat.Rule{{Interface: "eth1", VIP: tt.vip, To: tt.local}}; !cmp.Equal(got, want, addrCmp) {
				t.Fatalf("Wanted() = %v, want %v", got, want)
			}
			t.Cleanup(func() {
				if err := sw.Cleanup(); err != nil {
					t.Error(err)
				}
			})

			if _, _, _, err := exchange(client, tt.vip); err == nil {
				t.Fatal("the node answered for the VIP before Backup")
			}

			if err := sw.Backup(); err != nil {
				t.Fatal(err)
			}
			if tt.name == "ipv4" {
				checkRuleset(t, node, wantBackupRuleset)
			} else if got := rulesetOf(t, node); !strings.Contains(got, "\t\t"+tt.rulesetRule+"\n") {
				t.Errorf("ruleset lacks %q:\n%s", tt.rulesetRule, got)
			}
			tcpReply, udpReply, udpFrom, err := exchange(client, tt.vip)
			if err != nil {
				t.Fatalf("after Backup: %v", err)
			}
			// The listener saw the client itself; the client saw the VIP.
			from := net.JoinHostPort(tt.client, "") // "172.16.0.1:" or "[fd00:1::1]:"
			if !strings.HasPrefix(tcpReply, "tcp ping from "+from) {
				t.Errorf("tcp reply %q: the listener did not see the client %s", tcpReply, tt.client)
			}
			if !strings.HasPrefix(udpReply, "udp ping from "+from) {
				t.Errorf("udp reply %q: the listener did not see the client %s", udpReply, tt.client)
			}
			if want := netip.AddrPortFrom(tt.vip, 5353); udpFrom != want {
				t.Errorf("udp reply came from %s, want the VIP %s", udpFrom, want)
			}

			if err := sw.Master(); err != nil {
				t.Fatal(err)
			}
			if tt.name == "ipv4" {
				checkRuleset(t, node, wantMasterRuleset)
			} else if got := rulesetOf(t, node); strings.Contains(got, "dnat") {
				t.Errorf("ruleset still has a dnat rule after Master:\n%s", got)
			}
			if _, _, _, err := exchange(client, tt.vip); err == nil {
				t.Error("the node still answered for the VIP after Master")
			}
		})
	}
}

// foreignRuleset is loaded before the switch runs and must be left exactly as
// it was: tables of other owners, one with a rule for the same VIP, one with
// the switch's table name in another family.
const foreignRuleset = `table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter packets 0 bytes 0 accept
		ip saddr 10.0.0.0/8 drop
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat - 1; policy accept;
		iifname "eth0" ip daddr 192.168.0.100 tcp dport 8443 dnat to 172.16.0.9
	}
}
table inet lvskit_nat {
	chain prerouting {
		type nat hook prerouting priority dstnat + 1; policy accept;
		iifname "eth2" ip daddr 10.1.1.1 dnat ip to 10.2.2.2
	}
}
`

// countRules counts every rule in the switch's chain with google/nftables
// directly, independently of how the switch decodes rules.
func countRules(t *testing.T, ns *netnstest.NS) int {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle())))
	if err != nil {
		t.Fatal(err)
	}
	tbl := &nftables.Table{Name: nat.DefaultTable, Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(tbl, &nftables.Chain{Name: nat.DefaultChain, Table: tbl})
	if err != nil {
		// A missing table or chain reads as an error: count zero only if
		// the table is really absent.
		if _, err2 := c.ListTableOfFamily(nat.DefaultTable, nftables.TableFamilyIPv4); err2 != nil {
			return 0
		}
		t.Fatalf("GetRules: %v", err)
	}
	return len(rules)
}

func TestIntegrationAlternatingCallsAndForeignTables(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft")
	ns := netnstest.New(t)
	nl := ns.Netlink(t)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth1"}, PeerName: "eth1peer"}
	if err := nl.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("172.16.0.2/24")
	if err := nl.AddrAdd(veth, addr); err != nil {
		t.Fatal(err)
	}

	cmd := ns.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(foreignRuleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("loading the foreign ruleset: %v\n%s", err, out)
	}
	before := rulesetOf(t, ns, "-a")
	if diff := cmp.Diff(foreignRuleset, rulesetOf(t, ns)); diff != "" {
		t.Fatalf("foreign ruleset did not load as written (-want +got):\n%s", diff)
	}

	cfg := nat.Config{Interface: "eth1", VIPs: []netip.Addr{netip.MustParseAddr("192.168.0.100")}}
	sw := open(t, ns, cfg)
	rng := rand.New(rand.NewPCG(1, 5))
	const calls = 1000
	backups := 0
	for i := range calls {
		if i%100 == 99 {
			// A fresh switch finds the rules of the previous one.
			sw.Close()
			sw = open(t, ns, cfg)
		}
		// Alternate, with an occasional repeat to exercise idempotence.
		backup := i%2 == 0
		if rng.IntN(10) == 0 {
			backup = !backup
		}
		op, want := sw.Master, 0
		if backup {
			op, want = sw.Backup, 1
			backups++
		}
		if err := op(); err != nil {
			t.Fatalf("call %d (backup=%v): %v", i, backup, err)
		}
		if got := countRules(t, ns); got != want {
			t.Fatalf("after call %d (backup=%v): %d rules in the chain, want %d", i, backup, got, want)
		}
	}
	t.Logf("%d calls: %d Backup, %d Master", calls, backups, calls-backups)

	// The foreign tables are byte-identical, handles included.
	after := rulesetOf(t, ns, "-a")
	if diff := cmp.Diff(before, stripTable(t, after)); diff != "" {
		t.Errorf("foreign tables changed (-before +after):\n%s", diff)
	}
	if err := sw.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, rulesetOf(t, ns, "-a")); diff != "" {
		t.Errorf("after Cleanup the ruleset is not the foreign one (-before +after):\n%s", diff)
	}
	// Cleanup is idempotent.
	if err := sw.Cleanup(); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

// stripTable removes the switch's "table ip lvskit_nat" block from an
// `nft -a list ruleset` text.
func stripTable(t *testing.T, ruleset string) string {
	t.Helper()
	start := strings.Index(ruleset, "table ip "+nat.DefaultTable+" {")
	if start < 0 {
		return ruleset
	}
	end := strings.Index(ruleset[start:], "\n}\n")
	if end < 0 {
		t.Fatalf("unterminated table in:\n%s", ruleset)
	}
	return ruleset[:start] + ruleset[start+end+3:]
}

func TestIntegrationSwitchesShareTable(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "sysctl")
	node, _ := lanPair(t)
	vipA, vipB := netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("192.168.0.200")
	a := open(t, node, nat.Config{Interface: "eth1", VIPs: []netip.Addr{vipA}})
	b := open(t, node, nat.Config{Interface: "eth1", VIPs: []netip.Addr{vipB}})
	t.Cleanup(func() { a.Cleanup() })
	local := netip.MustParseAddr("172.16.0.2")
	ruleA := nat.Rule{Interface: "eth1", VIP: vipA, To: local}
	ruleB := nat.Rule{Interface: "eth1", VIP: vipB, To: local}
	steps := []struct {
		name string
		op   func() error
		want []nat.Rule
	}{
		{"a backup", a.Backup, []nat.Rule{ruleA}},
		{"b backup", b.Backup, []nat.Rule{ruleA, ruleB}},
		{"a master keeps b", a.Master, []nat.Rule{ruleB}},
		{"a backup again", a.Backup, []nat.Rule{ruleB, ruleA}},
		{"b master keeps a", b.Master, []nat.Rule{ruleA}},
		{"b master twice", b.Master, []nat.Rule{ruleA}},
	}
	for _, st := range steps {
		if err := st.op(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := a.Installed()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st.want, got, addrCmp); diff != "" {
			t.Errorf("%s: Installed (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestIntegrationOpenRejectsBadInput(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "sysctl")
	node, _ := lanPair(t)
	// An interface with no addresses at all.
	nl := node.Netlink(t)
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "bare0"}, PeerName: "bare1"}); err != nil {
		t.Fatal(err)
	}
	// An interface with IPv4 only.
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "v4only"}, PeerName: "v4only1"}); err != nil {
		t.Fatal(err)
	}
	link, _ := nl.LinkByName("v4only")
	addr, _ := netlink.ParseAddr("10.3.0.1/24")
	if err := nl.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}
	vip := []netip.Addr{netip.MustParseAddr("192.168.0.100")}
	tests := []struct {
		name string
		cfg  nat.Config
		want string
	}{
		{"missing interface", nat.Config{Interface: "eth9", VIPs: vip}, `Interface "eth9": no such interface`},
		{"interface without IPv4", nat.Config{Interface: "bare0", VIPs: vip}, `Interface "bare0": no IPv4 address`},
		{"interface without global IPv6", nat.Config{Interface: "v4only", VIPs: []netip.Addr{netip.MustParseAddr("fd00::100")}}, `Interface "v4only": no global IPv6 address`},
		{"only address is the VIP", nat.Config{Interface: "v4only", VIPs: []netip.Addr{netip.MustParseAddr("10.3.0.1")}}, `Interface "v4only": no IPv4 address (other than a VIP)`},
		{"invalid VIP", nat.Config{Interface: "eth1", VIPs: []netip.Addr{{}}}, "VIP: invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.NetNS = int(node.Handle())
			sw, err := nat.Open(&cfg)
			if err == nil {
				sw.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error %q, want one containing %q", err, tt.want)
			}
		})
	}
	if got := rulesetOf(t, node); got != "" {
		t.Errorf("rejected Opens changed the ruleset:\n%s", got)
	}
	// A given local address needs no address on the interface.
	sw := open(t, node, nat.Config{Interface: "bare0", VIPs: vip, LocalIPv4: netip.MustParseAddr("10.9.0.1")})
	if got := sw.Wanted()[0].To; got != netip.MustParseAddr("10.9.0.1") {
		t.Errorf("Wanted target %s, want the given 10.9.0.1", got)
	}
}
