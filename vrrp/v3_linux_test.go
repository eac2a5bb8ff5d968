package vrrp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv6"
)

// VRRPv3 in the netns tier: an IPv4 instance (VRID 1, VIP 192.168.0.100
// on eth0) and an IPv6 one (VRID 2, VIP fd00::100 on eth0), both
// advertised on eth1, against keepalived 2.2.7 with vrrp_version 3.

var articleVIP6 = netip.MustParsePrefix("fd00::100/64")

// v3Hosts builds n hosts like articleHosts, with IPv6 on both bridges and
// duplicate address detection off, so that the link-local addresses are
// usable at once.
func v3Hosts(t *testing.T, n int) (*netnstest.Topology, []*netnstest.NS) {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	tp.Bridge("lan")
	var hs []*netnstest.NS
	for i := range n {
		h := tp.Host(fmt.Sprintf("lb%d", i+1))
		h.Run(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		tp.Connect(h, "eth1", "svc", svcAddr(i).String()+"/24")
		tp.Connect(h, "eth0", "lan", fmt.Sprintf("192.168.0.%d/24", 11+i), fmt.Sprintf("fd00::%d/64", 11+i))
		hs = append(hs, h)
	}
	for _, h := range hs {
		linkLocalOf(t, h, "eth1")
	}
	return tp, hs
}

// linkLocalOf waits for the link-local address of ifname in ns.
func linkLocalOf(t *testing.T, ns *netnstest.NS, ifname string) netip.Addr {
	t.Helper()
	var ll netip.Addr
	netnstest.WaitFor(t, ns.Name+" link-local address on "+ifname, 10*time.Second, func() bool {
		nl := ns.Netlink(t)
		l, err := nl.LinkByName(ifname)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := nl.AddrList(l, netlink.FAMILY_V6)
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() && a.Flags&0x40 == 0 { // not tentative
				ll = ip
				return true
			}
		}
		return false
	})
	return ll
}

func v3Config(ipv6 bool, prio uint8, iv time.Duration) Config {
	c := articleConfig(prio)
	c.Version, c.AdvertInterval = Version3, iv
	if ipv6 {
		c.VRID, c.VIPs = 2, []netip.Prefix{articleVIP6}
	}
	return c
}

// keepalivedConfV3 is the same instance for keepalived: vrrp_version 3,
// advert_int in seconds with a fraction.
func keepalivedConfV3(ipv6 bool, prio int, iv time.Duration) string {
	vrid, vip := 1, articleVIP.String()
	if ipv6 {
		vrid, vip = 2, articleVIP6.String()
	}
	return fmt.Sprintf(`global_defs {
	router_id lvskit_test
	vrrp_version 3
}
vrrp_instance VI_%d {
	state BACKUP
	interface eth1
	virtual_router_id %d
	priority %d
	advert_int %g
	virtual_ipaddress {
		%s dev eth0
	}
}
`, vrid, vrid, prio, iv.Seconds(), vip)
}

func hasAddrAny(t *testing.T, ns *netnstest.NS, ifname string, p netip.Prefix) bool {
	t.Helper()
	if p.Addr().Is4() {
		return hasAddr(t, ns, ifname, p)
	}
	nl := ns.Netlink(t)
	l, err := nl.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip == p.Addr() {
			return true
		}
	}
	return false
}

func waitAddrAny(t *testing.T, ns *netnstest.NS, ifname string, p netip.Prefix, want bool) {
	t.Helper()
	netnstest.WaitFor(t, fmt.Sprintf("%s: %v on %s present=%v", ns.Name, p, ifname, want), 10*time.Second, func() bool {
		return hasAddrAny(t, ns, ifname, p) == want
	})
}

// vrrpPackets6 decodes the IPv6 VRRP frames of a capture.
func vrrpPackets6(fs []frame) []vrrpPacket {
	var out []vrrpPacket
	for _, f := range fs {
		d := f.data
		if len(d) < 14+40+8 || binary.BigEndian.Uint16(d[12:]) != 0x86dd {
			continue
		}
		ip := d[14:]
		pl := int(binary.BigEndian.Uint16(ip[4:]))
		if ip[6] != ProtocolNumber || 40+pl > len(ip) || pl < 8 {
			continue
		}
		p := vrrpPacket{at: f.at, src: netip.AddrFrom16([16]byte(ip[8:24])), dst: netip.AddrFrom16([16]byte(ip[24:40])),
			ttl: ip[7], tos: uint8(binary.BigEndian.Uint16(ip[0:]) >> 4), payload: ip[40 : 40+pl]}
		p.prio = p.payload[2]
		out = append(out, p)
	}
	return out
}

func startCapture6(t *testing.T, ns *netnstest.NS, ifname string) *capture {
	t.Helper()
	file := filepath.Join(t.TempDir(), ns.Name+"-"+ifname+".pcap")
	p := ns.Start(t, "tcpdump", "-i", ifname, "-n", "-U", "-w", file, "ip proto 112 or ip6 proto 112 or arp or icmp6")
	p.WaitOutput(t, "listening on", 20*time.Second)
	return &capture{p: p, file: file}
}

// firstNA returns the first unsolicited neighbour advertisement frame
// for target in a capture, or nil.
func firstNA(fs []frame, target netip.Addr) []byte {
	t16 := target.As16()
	for _, f := range fs {
		d := f.data
		if len(d) >= 14+40+24 && binary.BigEndian.Uint16(d[12:]) == 0x86dd && d[14+6] == 58 &&
			d[14+40] == 136 && string(d[14+48:14+64]) == string(t16[:]) {
			return d
		}
	}
	return nil
}

func familyName(ipv6 bool) string {
	if ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

// TestIntegrationV3PayloadIdenticalToKeepalived compares, byte for byte,
// the first VRRPv3 advert of keepalived and of lvskit with the same
// instance, IPv4 and IPv6, and the IP fields around it; the checksums are
// also checked by tshark.
func TestIntegrationV3PayloadIdenticalToKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "tcpdump", "tshark")
	for _, ipv6 := range []bool{false, true} {
		t.Run(familyName(ipv6), func(t *testing.T) {
			_, hs := v3Hosts(t, 2)
			packets := vrrpPackets
			if ipv6 {
				packets = vrrpPackets6
			}
			var file string
			first := func(c *capture) vrrpPacket {
				t.Helper()
				file = c.file
				for _, p := range packets(c.stop(t)) {
					if p.prio == 120 {
						return p
					}
				}
				t.Fatalf("no advert of priority 120 captured")
				return vrrpPacket{}
			}
			kc := startCapture6(t, hs[1], "eth1")
			kn := startCapture6(t, hs[1], "eth0")
			k := startKeepalived(t, hs[0], keepalivedConfV3(ipv6, 120, 100*time.Millisecond))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			time.Sleep(500 * time.Millisecond)
			k.p.Signal(syscall.SIGTERM)
			if err := k.p.Wait(15 * time.Second); err != nil {
				t.Logf("keepalived exit: %v", err)
			}
			ka := first(kc)
			kaFile := file

			kaNA := firstNA(kn.stop(t), articleVIP6.Addr())
			lc := startCapture6(t, hs[1], "eth1")
			ln := startCapture6(t, hs[1], "eth0")
			s := startSpeaker(t, hs[0], v3Config(ipv6, 120, 100*time.Millisecond))
			s.waitState(t, StateMaster, 20*time.Second)
			time.Sleep(500 * time.Millisecond)
			s.stop(t)
			ours := first(lc)
			ourNA := firstNA(ln.stop(t), articleVIP6.Addr())
			if ipv6 {
				// The unsolicited neighbour advertisement, the whole frame:
				// both ran on the same host, so the MACs agree too.
				if kaNA == nil || ourNA == nil {
					t.Errorf("neighbour advertisements captured: keepalived %v, lvskit %v", kaNA != nil, ourNA != nil)
				} else if diff := cmp.Diff(kaNA, ourNA); diff != "" {
					t.Errorf("neighbour advertisement frame (-keepalived +lvskit):\n%s", diff)
				} else {
					t.Logf("neighbour advertisement: % x", ourNA)
				}
				if diff := cmp.Diff(kaNA, AppendNA(nil, macOf(t, hs[0], "eth0"), articleVIP6.Addr(), false)); diff != "" {
					t.Errorf("AppendNA (-keepalived +lvskit):\n%s", diff)
				}
			}

			if diff := cmp.Diff(ka.payload, ours.payload); diff != "" {
				t.Errorf("VRRP payload (-keepalived +lvskit):\n%s", diff)
			}
			type ipFields struct {
				TTL, TOS uint8
				Src, Dst string
			}
			kf := ipFields{ka.ttl, ka.tos, ka.src.String(), ka.dst.String()}
			of := ipFields{ours.ttl, ours.tos, ours.src.String(), ours.dst.String()}
			if diff := cmp.Diff(kf, of); diff != "" {
				t.Errorf("IP header (-keepalived +lvskit):\n%s", diff)
			}
			var a Advert
			if err := a.Unmarshal(ka.payload, Pseudo{Src: ka.src, Dst: ka.dst}); err != nil {
				t.Errorf("decoding keepalived's advert: %v", err)
			}
			for _, f := range []string{kaFile, lc.file} {
				for _, row := range tshark(t, f, "vrrp", "vrrp.version", "vrrp.checksum.status") {
					if len(row) < 2 || row[0] != "3" || row[1] != "1" {
						t.Errorf("%s: tshark says version/checksum status %v, want 3 and good (1)", filepath.Base(f), row)
					}
				}
			}
			t.Logf("keepalived %s > %s hop/ttl %d tos %#x payload % x", ka.src, ka.dst, ka.ttl, ka.tos, ka.payload)
			t.Logf("lvskit     %s > %s hop/ttl %d tos %#x payload % x", ours.src, ours.dst, ours.ttl, ours.tos, ours.payload)
		})
	}
}

// buildVrrpd builds examples/vrrpd, lvskit's speaker as a program.
func buildVrrpd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vrrpd")
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/vrrpd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestIntegrationV3CPUHog runs a pair of vrrpd at 10 ms adverts
// (Master_Down_Interval 36 ms) with -rt-priority, over IPv4 and IPv6, with
// a bounded busy loop per CPU beside them: the BACKUP must stay BACKUP and
// the MASTER MASTER. Without real-time scheduling a loaded host delays the
// MASTER's adverts by more than 36 ms (the test logs the longest gap on
// the wire), as it does keepalived's without vrrp_rt_priority.
//
// No scheduling policy helps when a CPU is not there to run on: a virtual
// machine's CPU that its hypervisor takes away for 100 ms, or a kernel
// path that does not yield, stops every task queued on it. A stall probe
// (internal/testenv/stallprobe) pinned to each CPU runs beside the pair
// under the same real-time policy; a window in which one of them too was
// kept from running for longer than the Master_Down_Interval cannot tell
// whether vrrpd would have kept up, so it is logged and run again, at most
// three times.
func TestIntegrationV3CPUHog(t *testing.T) {
	netnstest.RequirePrivileged(t, "tcpdump", "chrt", "taskset")
	bin := buildVrrpd(t)
	probe := filepath.Join(t.TempDir(), "stallprobe")
	if out, err := exec.Command("go", "build", "-o", probe, "../internal/testenv/stallprobe").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const masterDown = 36 * time.Millisecond
	for _, ipv6 := range []bool{false, true} {
		t.Run(familyName(ipv6), func(t *testing.T) {
			_, hs := v3Hosts(t, 2)
			cfg := v3Config(ipv6, 1, 10*time.Millisecond)
			args := func(prio string) []string {
				return []string{"-interface", "eth1", "-vrid", fmt.Sprint(cfg.VRID), "-priority", prio,
					"-vip", cfg.VIPs[0].String(), "-vip-interface", "eth0", "-version", "3", "-advert-int", "10ms",
					"-rt-priority", "10"}
			}
			m := hs[0].Start(t, bin, args("150")...)
			m.WaitOutput(t, "to=MASTER", 10*time.Second)
			b := hs[1].Start(t, bin, args("100")...)
			b.WaitOutput(t, "to=BACKUP", 10*time.Second)
			// The policy really is SCHED_RR, for every thread.
			for _, p := range []*netnstest.Proc{m, b} {
				out, err := exec.Command("chrt", "-a", "-p", fmt.Sprint(p.Pid())).CombinedOutput()
				if err != nil || strings.Count(string(out), "SCHED_RR") == 0 || strings.Contains(string(out), "SCHED_OTHER") {
					t.Fatalf("chrt -a -p %d: %v\n%s", p.Pid(), err, out)
				}
			}
			time.Sleep(500 * time.Millisecond)
			for window := 1; ; window++ {
				mFrom, bFrom := len(m.Output()), len(b.Output())
				c := startCapture6(t, hs[1], "eth1")
				var probes []*netnstest.Proc
				for cpu := range runtime.NumCPU() {
					probes = append(probes, hs[1].Start(t, "taskset", "-c", fmt.Sprint(cpu), "chrt", "-r", "10", probe, "-for", "8s", "-over", "20ms"))
				}
				for range 2 {
					// Bounded: each loop ends by itself after 9 s.
					hs[1].Start(t, "sh", "-c", `end=$(($(date +%s)+9)); while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done; done`)
				}
				var stall time.Duration
				stallCPU := 0
				for cpu, pr := range probes {
					pr.WaitOutput(t, "longest ", 20*time.Second)
					if d := probeLongest(t, pr.Output()); d > stall {
						stall, stallCPU = d, cpu
					}
				}
				// What the wire saw: the MASTER's longest silence.
				var prev time.Time
				var maxGap time.Duration
				pk := vrrpPackets
				if ipv6 {
					pk = vrrpPackets6
				}
				n := 0
				for _, p := range pk(c.stop(t)) {
					if p.prio != 150 {
						continue
					}
					n++
					if !prev.IsZero() && p.at.Sub(prev) > maxGap {
						maxGap = p.at.Sub(prev)
					}
					prev = p.at
				}
				t.Logf("window %d: MASTER's adverts on the wire in 8 s: %d, longest gap %v; the stall probes' longest delay %v (CPU %d)", window, n, maxGap, stall, stallCPU)
				mMoves := strings.Count(m.Output()[mFrom:], "to=")
				bMoves := strings.Count(b.Output()[bFrom:], "to=")
				if mMoves == 0 && bMoves == 0 {
					break
				}
				if stall <= masterDown {
					t.Errorf("MASTER made %d transitions and BACKUP %d under the load, want none; no CPU kept a stall probe from running for more than %v:\n%s\n%s",
						mMoves, bMoves, stall, m.Output()[mFrom:], b.Output()[bFrom:])
					break
				}
				t.Logf("window %d: CPU %d kept every real-time task on it from running for %v, longer than Master_Down_Interval (%v); the transitions it caused are the protocol's answer:\n%s%s",
					window, stallCPU, stall, masterDown, m.Output()[mFrom:], b.Output()[bFrom:])
				if window == 3 {
					t.Fatalf("a CPU stalled real-time tasks beyond Master_Down_Interval in %d windows out of %d: the test could not measure vrrpd", window, window)
				}
				// Let the pair settle (the BACKUP yields to the higher
				// priority) and the busy loops end.
				time.Sleep(2 * time.Second)
			}
		})
	}
}

// probeLongest reads stallprobe's last line, "longest WAKE stalls N".
func probeLongest(t *testing.T, out string) time.Duration {
	t.Helper()
	i := strings.LastIndex(out, "longest ")
	if i < 0 {
		t.Fatalf("stall probe printed no result:\n%s", out)
	}
	f := strings.Fields(out[i:])
	if len(f) < 2 {
		t.Fatalf("stall probe's result %q: want \"longest WAKE stalls N\"", out[i:])
	}
	d, err := time.ParseDuration(f[1])
	if err != nil {
		t.Fatalf("stall probe's result %q: %v", out[i:], err)
	}
	return d
}

// TestIntegrationV3HopLimit sends VRRPv3 adverts over IPv6 with hop limit
// 64, then 255, from a raw socket in a peer's namespace: the speaker drops
// the first for ReasonTTL (the hop limit comes from the kernel's control
// message) and accepts the second.
func TestIntegrationV3HopLimit(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := v3Hosts(t, 2)
	s := startSpeaker(t, hs[1], v3Config(true, 100, 100*time.Millisecond))
	s.waitState(t, StateBackup, 10*time.Second)
	src := linkLocalOf(t, hs[0], "eth1")
	ad := Advert{Version: Version3, VRID: 2, Priority: 150, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{articleVIP6.Addr()}}
	b := make([]byte, MaxLen)
	n, err := ad.MarshalTo(b, Pseudo{Src: src, Dst: MulticastGroup6})
	if err != nil {
		t.Fatal(err)
	}
	send := func(hops int) {
		t.Helper()
		err := hs[0].Do(func() error {
			ifi, err := net.InterfaceByName("eth1")
			if err != nil {
				return err
			}
			c, err := net.ListenPacket("ip6:112", "::")
			if err != nil {
				return err
			}
			defer c.Close()
			p := ipv6.NewPacketConn(c)
			if err := p.SetMulticastInterface(ifi); err != nil {
				return err
			}
			if err := p.SetMulticastHopLimit(hops); err != nil {
				return err
			}
			_, err = p.WriteTo(b[:n], &ipv6.ControlMessage{Src: src.AsSlice(), IfIndex: ifi.Index},
				&net.IPAddr{IP: MulticastGroup6.AsSlice(), Zone: "eth1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	send(64)
	netnstest.WaitFor(t, "a drop for the hop limit", 5*time.Second, func() bool {
		return s.r.Stats().Instances[0].Dropped[ReasonTTL] == 1
	})
	if st := s.r.Stats().Instances[0]; st.AdvertsReceived != 0 || s.state() != StateBackup {
		t.Errorf("after hop limit 64: %d accepted, state %v", st.AdvertsReceived, s.state())
	}
	send(255)
	netnstest.WaitFor(t, "the advert with hop limit 255 accepted", 5*time.Second, func() bool {
		return s.r.Stats().Instances[0].AdvertsReceived == 1
	})
	if st := s.r.Stats().Instances[0]; st.DroppedTotal() != 1 {
		t.Errorf("drops %v, want the one for the hop limit", st.Dropped)
	}
}
