package vrrp

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// The article's layout: adverts on eth1 (svc, 172.16.0.0/24), the VIP on
// eth0 (lan, 192.168.0.0/24).
var articleVIP = netip.MustParsePrefix("192.168.0.100/24")

func svcAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{172, 16, 0, byte(i + 1)}) }

// articleHosts builds n hosts on the svc and lan bridges.
func articleHosts(t *testing.T, n int) (*netnstest.Topology, []*netnstest.NS) {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	tp.Bridge("lan")
	var hs []*netnstest.NS
	for i := range n {
		h := tp.Host(fmt.Sprintf("lb%d", i+1))
		tp.Connect(h, "eth1", "svc", svcAddr(i).String()+"/24")
		tp.Connect(h, "eth0", "lan", fmt.Sprintf("192.168.0.%d/24", 11+i))
		hs = append(hs, h)
	}
	return tp, hs
}

func articleConfig(prio uint8) Config {
	return Config{Interface: "eth1", VRID: 1, Priority: prio, VIPs: []netip.Prefix{articleVIP}, VIPInterface: "eth0"}
}

type speaker struct {
	name   string
	ns     *netnstest.NS
	r      *Router
	cancel context.CancelFunc
	done   chan error
	once   sync.Once

	mu    sync.Mutex
	trans []Transition
}

func startSpeaker(t *testing.T, ns *netnstest.NS, cfg Config) *speaker {
	t.Helper()
	s := &speaker{name: ns.Name, ns: ns, done: make(chan error, 1)}
	r, err := Open([]Config{cfg}, &Options{NetNS: int(ns.Handle()), OnTransition: func(tr Transition) {
		s.mu.Lock()
		s.trans = append(s.trans, tr)
		s.mu.Unlock()
		t.Logf("%s: %v -> %v (%v)", ns.Name, tr.From, tr.To, tr.Cause)
	}})
	if err != nil {
		t.Fatalf("%s: Open: %v", ns.Name, err)
	}
	s.r = r
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- r.Run(ctx) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop shuts the speaker down gracefully (priority 0, VIPs removed).
func (s *speaker) stop(t *testing.T) {
	s.once.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("%s: Run: %v", s.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: Run did not return after cancel", s.name)
		}
		s.r.Close()
	})
}

func (s *speaker) state() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.trans) == 0 {
		return StateInit
	}
	return s.trans[len(s.trans)-1].To
}

func (s *speaker) last() Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trans[len(s.trans)-1]
}

// waitState polls until the speaker is in st; the machine is slow and
// loaded, so timeouts are generous.
func (s *speaker) waitState(t *testing.T, st State, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.state() == st {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: state %v after %v, want %v", s.name, s.state(), timeout, st)
}

// holdState checks that the speaker stays in st for d.
func (s *speaker) holdState(t *testing.T, st State, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := s.state(); got != st {
			t.Fatalf("%s: state changed to %v, want it to stay %v", s.name, got, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasAddr(t *testing.T, ns *netnstest.NS, ifname string, p netip.Prefix) bool {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == p.Addr() {
			return true
		}
	}
	return false
}

// waitAddr polls until the presence of the VIP on ns/ifname is want.
func waitAddr(t *testing.T, ns *netnstest.NS, ifname string, p netip.Prefix, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !time.Now().After(deadline) {
		if hasAddr(t, ns, ifname, p) == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v on %s present=%v, want %v", ns.Name, p, ifname, !want, want)
}

// capture records "proto 112 or arp" frames with tcpdump.
type capture struct {
	p    *netnstest.Proc
	file string
}

func startCapture(t *testing.T, ns *netnstest.NS, ifname string) *capture {
	t.Helper()
	file := filepath.Join(t.TempDir(), ns.Name+"-"+ifname+".pcap")
	// --immediate-mode: each frame is handed over as it arrives, not when
	// the kernel's buffer fills, so that stop loses none.
	p := ns.Start(t, "tcpdump", "-i", ifname, "-n", "-U", "--immediate-mode", "-w", file, "proto 112 or arp")
	p.WaitOutput(t, "listening on", 20*time.Second)
	return &capture{p: p, file: file}
}

// stop ends tcpdump and returns its frames.
func (c *capture) stop(t *testing.T) []frame {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // let the last frames reach the file
	c.p.Signal(syscall.SIGINT)
	if err := c.p.Wait(10 * time.Second); err != nil {
		t.Logf("tcpdump: %v", err)
	}
	b, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := parsePcap(b)
	if err != nil {
		t.Fatalf("%s: %v", c.file, err)
	}
	return fs
}

type frame struct {
	at   time.Time
	data []byte // Ethernet frame
}

// parsePcap reads a classic pcap file of Ethernet frames.
func parsePcap(b []byte) ([]frame, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("pcap: %d bytes, no header", len(b))
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
		}
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		return nil, fmt.Errorf("pcap: link type %d, want Ethernet", lt)
	}
	var out []frame
	for off := 24; off+16 <= len(b); {
		sec, frac, incl := bo.Uint32(b[off:]), bo.Uint32(b[off+4:]), int(bo.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			break // truncated last record
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		out = append(out, frame{at: time.Unix(int64(sec), ns), data: b[off : off+incl]})
		off += incl
	}
	return out, nil
}

// vrrpPacket is a decoded VRRP frame from a capture.
type vrrpPacket struct {
	at       time.Time
	src, dst netip.Addr
	ttl, tos uint8
	payload  []byte
	prio     uint8
}

func vrrpPackets(fs []frame) []vrrpPacket {
	var out []vrrpPacket
	for _, f := range fs {
		d := f.data
		if len(d) < 14+20 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
			continue
		}
		ip := d[14:]
		hl := int(ip[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != ProtocolNumber || tot > len(ip) || hl > tot || tot-hl < 3 {
			continue
		}
		p := vrrpPacket{at: f.at, src: netip.AddrFrom4([4]byte(ip[12:16])), dst: netip.AddrFrom4([4]byte(ip[16:20])),
			ttl: ip[8], tos: ip[1], payload: ip[hl:tot]}
		p.prio = p.payload[2]
		out = append(out, p)
	}
	return out
}

// garps returns the gratuitous ARPs for ip in a capture.
func garps(fs []frame, ip netip.Addr) []frame {
	var out []frame
	a := ip.As4()
	for _, f := range fs {
		d := f.data
		if len(d) >= 42 && binary.BigEndian.Uint16(d[12:]) == 0x0806 &&
			string(d[28:32]) == string(a[:]) && string(d[38:42]) == string(a[:]) {
			out = append(out, f)
		}
	}
	return out
}

func macOf(t *testing.T, ns *netnstest.NS, ifname string) net.HardwareAddr {
	l, err := ns.Netlink(t).LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().HardwareAddr
}

// tshark decodes a capture with Wireshark's dissectors: one line per VRRP
// packet with the named fields, tab separated.
func tshark(t *testing.T, file string, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-Y", filter, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := netnstest.New(t).Run(t, "tshark", args...)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.Contains(line, "Running as user") {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

func TestIntegrationElectionFailoverAndStop(t *testing.T) {
	netnstest.RequirePrivileged(t, "tcpdump", "tshark")
	tp, hs := articleHosts(t, 3)
	wireCap := startCapture(t, hs[0], "eth1")
	lanCap := startCapture(t, hs[0], "eth0")
	// Priorities far apart, so that the second (120) always beats the
	// third (50) by Skew_Time difference, 274 ms, even on a loaded machine.
	a := startSpeaker(t, hs[0], articleConfig(50))
	m := startSpeaker(t, hs[1], articleConfig(150))
	c := startSpeaker(t, hs[2], articleConfig(120))

	// Election: the highest priority wins; the VIP is on the master only.
	m.waitState(t, StateMaster, 20*time.Second)
	a.waitState(t, StateBackup, 5*time.Second)
	c.waitState(t, StateBackup, 5*time.Second)
	waitAddr(t, hs[1], "eth0", articleVIP, true)
	for _, h := range []*netnstest.NS{hs[0], hs[2]} {
		if hasAddr(t, h, "eth0", articleVIP) {
			t.Errorf("%s: backup has the VIP", h.Name)
		}
	}
	time.Sleep(1500 * time.Millisecond)

	// Abrupt failure: the master's svc cable is cut. Its eth1 loses carrier,
	// so it goes FAULT and drops the VIP; the next priority takes over.
	tp.SetPort(hs[1], "eth1", false)
	c.waitState(t, StateMaster, 20*time.Second)
	m.waitState(t, StateFault, 10*time.Second)
	waitAddr(t, hs[2], "eth0", articleVIP, true)
	waitAddr(t, hs[1], "eth0", articleVIP, false)
	if got := c.last().Cause.Kind; got != CauseMasterDown {
		t.Errorf("takeover cause %v, want master down", c.last().Cause)
	}

	// Healed: the higher priority preempts again.
	tp.SetPort(hs[1], "eth1", true)
	m.waitState(t, StateMaster, 20*time.Second)
	c.waitState(t, StateBackup, 10*time.Second)
	waitAddr(t, hs[2], "eth0", articleVIP, false)
	time.Sleep(1500 * time.Millisecond)

	// Graceful stop: priority 0, the next takes over after its Skew_Time.
	m.stop(t)
	c.waitState(t, StateMaster, 20*time.Second)
	if got := c.last().Cause; got.Kind != CausePriorityZero || got.From != svcAddr(1) {
		t.Errorf("takeover cause %v, want priority 0 from %v", got, svcAddr(1))
	}
	if hasAddr(t, hs[1], "eth0", articleVIP) {
		t.Errorf("stopped master kept the VIP")
	}
	time.Sleep(1500 * time.Millisecond)

	frames := wireCap.stop(t)
	pkts := vrrpPackets(frames)
	var zero, next *vrrpPacket
	for i := range pkts {
		p := &pkts[i]
		if p.ttl != 255 || p.tos != 0xc0 || p.dst != MulticastGroup {
			t.Errorf("advert from %v: ttl %d tos %#x dst %v, want 255 0xc0 224.0.0.18", p.src, p.ttl, p.tos, p.dst)
		}
		if p.src == svcAddr(1) && p.prio == 0 {
			zero = p
		}
		if zero != nil && next == nil && p.src == svcAddr(2) {
			next = p
		}
	}
	if zero == nil || next == nil {
		t.Fatalf("no priority 0 advert followed by the new master's advert in %d adverts", len(pkts))
	}
	gap := next.at.Sub(zero.at)
	t.Logf("graceful stop: priority 0 -> new master's advert %v (Skew_Time %v)", gap, SkewTime(120))
	if gap < SkewTime(120)-20*time.Millisecond || gap > SkewTime(120)+2*time.Second {
		t.Errorf("takeover %v after priority 0, want about Skew_Time %v", gap, SkewTime(120))
	}

	// Wireshark agrees: VRRPv2, VRID 1, good checksum, TTL 255.
	rows := tshark(t, wireCap.file, "vrrp", "vrrp.version", "vrrp.virt_rtr_id", "vrrp.checksum.status", "ip.ttl", "vrrp.ip_addr", "vrrp.adver_int")
	if len(rows) < 5 {
		t.Fatalf("tshark decoded %d VRRP packets, want many", len(rows))
	}
	for _, r := range rows {
		if strings.Join(r, " ") != "2 1 1 255 192.168.0.100 1" {
			t.Errorf("tshark: %q, want version 2, VRID 1, checksum good, TTL 255, VIP, interval 1", r)
		}
	}

	// Gratuitous ARPs on the lan from each new master, after its advert.
	lan := lanCap.stop(t)
	g := garps(lan, articleVIP.Addr())
	perMAC := map[string]int{}
	for _, f := range g {
		perMAC[net.HardwareAddr(f.data[6:12]).String()]++
	}
	if perMAC[macOf(t, hs[1], "eth0").String()] < 5 || perMAC[macOf(t, hs[2], "eth0").String()] < 5 {
		t.Errorf("gratuitous ARPs per sender %v, want at least a burst of 5 from %v and %v", perMAC,
			macOf(t, hs[1], "eth0"), macOf(t, hs[2], "eth0"))
	}
	arps := tshark(t, lanCap.file, "arp.isgratuitous == 1", "arp.src.proto_ipv4", "eth.dst")
	if len(arps) < 10 {
		t.Errorf("tshark sees %d gratuitous ARPs, want at least 10", len(arps))
	}
	for _, r := range arps {
		if strings.Join(r, " ") != "192.168.0.100 ff:ff:ff:ff:ff:ff" {
			t.Errorf("tshark gratuitous ARP %q", r)
		}
	}
}

func TestIntegrationNoPreemptAndStaleVIP(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := articleHosts(t, 2)
	low := articleConfig(100)
	low.NoPreempt = true
	l := startSpeaker(t, hs[0], low)
	l.waitState(t, StateMaster, 20*time.Second)

	// A VIP left over on the joining node is removed when it starts as BACKUP.
	nl := hs[1].Netlink(t)
	eth0, err := nl.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := nl.AddrAdd(eth0, vipAddr(Address{Prefix: articleVIP})); err != nil {
		t.Fatal(err)
	}
	high := articleConfig(150)
	high.NoPreempt = true
	h := startSpeaker(t, hs[1], high)
	h.waitState(t, StateBackup, 10*time.Second)
	waitAddr(t, hs[1], "eth0", articleVIP, false)
	h.holdState(t, StateBackup, 6*time.Second)
	if l.state() != StateMaster || !hasAddr(t, hs[0], "eth0", articleVIP) {
		t.Errorf("nopreempt: low-priority master lost its role")
	}
}

func TestIntegrationUnicast(t *testing.T) {
	netnstest.RequirePrivileged(t, "tcpdump")
	_, hs := articleHosts(t, 3)
	wireCap := startCapture(t, hs[2], "eth1")
	ca := articleConfig(100)
	ca.UnicastSrc, ca.UnicastPeers = svcAddr(0), []netip.Addr{svcAddr(1)}
	cb := articleConfig(150)
	cb.UnicastPeers = []netip.Addr{svcAddr(0)}
	a := startSpeaker(t, hs[0], ca)
	b := startSpeaker(t, hs[1], cb)
	b.waitState(t, StateMaster, 20*time.Second)
	a.waitState(t, StateBackup, 5*time.Second)
	// A multicast speaker with a higher priority is no peer of theirs.
	x := startSpeaker(t, hs[2], articleConfig(200))
	x.waitState(t, StateMaster, 20*time.Second)
	time.Sleep(2 * time.Second)
	if a.state() != StateBackup || b.state() != StateMaster {
		t.Errorf("unicast pair disturbed by a stranger: a=%v b=%v", a.state(), b.state())
	}
	b.stop(t)
	a.waitState(t, StateMaster, 20*time.Second)
	// The bridge floods unicast to unknown MACs only, so the observer may
	// see few of the pair's adverts; those it sees are unicast with TTL 255.
	for _, p := range vrrpPackets(wireCap.stop(t)) {
		if p.src == svcAddr(2) {
			continue
		}
		if p.dst == MulticastGroup || p.ttl != 255 {
			t.Errorf("unicast advert %v -> %v ttl %d", p.src, p.dst, p.ttl)
		}
	}
	if st := a.r.Stats().Instances[0]; st.Dropped[ReasonPeer] == 0 {
		t.Errorf("adverts from a non-peer were not dropped: %+v", st)
	}
}

func TestIntegrationTrackedInterfaceFault(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := articleHosts(t, 2)
	cm := articleConfig(150)
	cm.TrackInterfaces = []string{"eth0"}
	m := startSpeaker(t, hs[0], cm)
	b := startSpeaker(t, hs[1], articleConfig(100))
	m.waitState(t, StateMaster, 20*time.Second)
	b.waitState(t, StateBackup, 5*time.Second)
	waitAddr(t, hs[0], "eth0", articleVIP, true)

	hs[0].Run(t, "ip", "link", "set", "eth0", "down")
	m.waitState(t, StateFault, 10*time.Second)
	if got := m.last().Cause.String(); got != "interface eth0 down" {
		t.Errorf("cause %q", got)
	}
	waitAddr(t, hs[0], "eth0", articleVIP, false)
	// The priority 0 advert of MASTER -> FAULT hands over after Skew_Time.
	b.waitState(t, StateMaster, 10*time.Second)
	if got := b.last().Cause.Kind; got != CausePriorityZero {
		t.Errorf("backup took over because %v, want priority 0", b.last().Cause)
	}

	hs[0].Run(t, "ip", "link", "set", "eth0", "up")
	m.waitState(t, StateMaster, 20*time.Second)
	b.waitState(t, StateBackup, 10*time.Second)
	waitAddr(t, hs[0], "eth0", articleVIP, true)
}

func TestIntegrationOpenRejectsUnknownInterface(t *testing.T) {
	netnstest.RequirePrivileged(t)
	ns := netnstest.New(t)
	for _, edit := range []func(*Config){
		func(c *Config) { c.Interface = "nope0" },
		func(c *Config) { c.Interface, c.VIPInterface = "lo", "nope0" },
		func(c *Config) { c.Interface, c.VIPInterface, c.TrackInterfaces = "lo", "lo", []string{"nope0"} },
	} {
		c := articleConfig(100)
		edit(&c)
		_, err := Open([]Config{c}, &Options{NetNS: int(ns.Handle())})
		fe, ok := err.(*FieldError)
		if !ok || fe.Value != "nope0" {
			t.Errorf("Open(%+v) error %v, want a FieldError naming nope0", c, err)
		}
	}
}

func TestIntegrationSeveralVRIDsOnOneInterface(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := articleHosts(t, 2)
	vip2 := netip.MustParsePrefix("192.168.0.200/24")
	type run struct {
		r    *Router
		done chan error
	}
	var runs []run
	for i, h := range hs {
		c1, c2 := articleConfig(150), articleConfig(100)
		if i == 1 {
			c1.Priority, c2.Priority = 100, 150
		}
		c2.VRID, c2.VIPs = 2, []netip.Prefix{vip2}
		r, err := Open([]Config{c1, c2}, &Options{NetNS: int(h.Handle())})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ru := run{r: r, done: make(chan error, 1)}
		go func() { ru.done <- r.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-ru.done
			r.Close()
		})
		runs = append(runs, ru)
	}
	waitAddr(t, hs[0], "eth0", articleVIP, true)
	waitAddr(t, hs[1], "eth0", vip2, true)
	time.Sleep(2 * time.Second)
	if hasAddr(t, hs[0], "eth0", vip2) || hasAddr(t, hs[1], "eth0", articleVIP) {
		t.Errorf("a VIP is on both nodes")
	}
	for i, ru := range runs {
		st := ru.r.Stats()
		want := []State{StateMaster, StateBackup}
		if i == 1 {
			want = []State{StateBackup, StateMaster}
		}
		for j, s := range st.Instances {
			if s.State != want[j] || s.DroppedTotal() != 0 {
				t.Errorf("node %d VRID %d: state %v, dropped %v; want %v, none dropped", i, s.VRID, s.State, s.Dropped, want[j])
			}
		}
		if st.Unmatched != 0 {
			t.Errorf("node %d: %d unmatched packets", i, st.Unmatched)
		}
	}
}
