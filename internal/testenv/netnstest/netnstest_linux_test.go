package netnstest_test

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"syscall"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// rootState lists the root namespace's links and addresses.
func rootState(t *testing.T) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatalf("listing root links: %v", err)
	}
	var s []string
	for _, l := range links {
		s = append(s, "link "+l.Attrs().Name)
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			t.Fatalf("listing addresses of %s: %v", l.Attrs().Name, err)
		}
		for _, a := range addrs {
			s = append(s, "addr "+l.Attrs().Name+" "+a.IPNet.String())
		}
	}
	sort.Strings(s)
	return s
}

// twoHosts builds hosts a and b on bridge lan, with PREFIX.1/24 and
// PREFIX.2/24 on their eth0.
func twoHosts(t *testing.T, prefix string) (tp *netnstest.Topology, a, b *netnstest.NS) {
	t.Helper()
	tp = netnstest.NewTopology(t)
	tp.Bridge("lan")
	a = tp.Host("a")
	b = tp.Host("b")
	tp.Connect(a, "eth0", "lan", prefix+".1/24")
	tp.Connect(b, "eth0", "lan", prefix+".2/24")
	return tp, a, b
}

func TestIntegrationTwoHostsExchangeUDP(t *testing.T) {
	netnstest.RequirePrivileged(t)
	before := rootState(t)

	tp, a, b := twoHosts(t, "10.99.0")

	var server *net.UDPConn
	if err := b.Do(func() error {
		var err error
		server, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 99, 0, 2), Port: 4000})
		return err
	}); err != nil {
		t.Fatalf("listening in b: %v", err)
	}
	defer server.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := server.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = server.WriteToUDP(append([]byte("echo "), buf[:n]...), from)
		}
	}()

	var client *net.UDPConn
	if err := a.Do(func() error {
		var err error
		client, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(10, 99, 0, 2), Port: 4000})
		return err
	}); err != nil {
		t.Fatalf("dialing from a: %v", err)
	}
	defer client.Close()

	// Bounded: at most 50 datagrams, one every 100 ms, until 5 answers.
	// On a loaded machine an answer may come after the next datagram is
	// sent, so any echo of a datagram sent so far counts.
	seen := map[string]bool{}
	sent := map[string]bool{}
	buf := make([]byte, 1500)
	for i := 0; i < 50 && len(seen) < 5; i++ {
		msg := fmt.Sprintf("ping %d", i)
		sent["echo "+msg] = true
		if _, err := client.Write([]byte(msg)); err != nil {
			t.Fatalf("sending: %v", err)
		}
		_ = client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for {
			n, err := client.Read(buf)
			if err != nil {
				break
			}
			if !sent[string(buf[:n])] {
				t.Fatalf("answer %q echoes nothing that was sent", buf[:n])
			}
			seen[string(buf[:n])] = true
		}
	}
	if len(seen) < 5 {
		t.Fatalf("got %d distinct answers, want 5", len(seen))
	}
	if src := client.LocalAddr().(*net.UDPAddr).IP.String(); src != "10.99.0.1" {
		t.Errorf("client source = %s, want 10.99.0.1", src)
	}

	// Both ends really are in their namespaces, joined only through the switch.
	out := a.Run(t, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	if !strings.Contains(out, "10.99.0.1/24") {
		t.Errorf("a's eth0: %s", out)
	}
	ports := tp.Switch.Run(t, "ip", "-o", "link", "show", "master", "lan")
	if n := strings.Count(ports, "\n"); n != 2 {
		t.Errorf("bridge lan has %d ports, want 2:\n%s", n, ports)
	}

	if diff := cmp.Diff(before, rootState(t)); diff != "" {
		t.Errorf("root namespace changed (-before +after):\n%s", diff)
	}
}

func TestIntegrationSetPortCutsTheLink(t *testing.T) {
	netnstest.RequirePrivileged(t, "ping")
	tp, a, b := twoHosts(t, "10.99.1")

	a.Run(t, "ping", "-c", "1", "-W", "2", "10.99.1.2")
	tp.SetPort(b, "eth0", false)
	if out, err := a.Command("ping", "-c", "1", "-W", "1", "10.99.1.2").CombinedOutput(); err == nil {
		t.Fatalf("ping through a cut port succeeded:\n%s", out)
	}
	tp.SetPort(b, "eth0", true)
	// The port needs a moment to forward again; bounded retries.
	var err error
	for i := 0; i < 10; i++ {
		if err = a.Command("ping", "-c", "1", "-W", "1", "10.99.1.2").Run(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("ping after the port came back: %v", err)
	}
}

func TestIntegrationStartTracksAndStopsTheProcess(t *testing.T) {
	netnstest.RequirePrivileged(t, "sh")
	ns := netnstest.New(t)
	p := ns.Start(t, "sh", "-c", `echo ready; echo "ns=$(ip netns identify $$)"; exec sleep 60`)
	p.WaitOutput(t, "ready", 10*time.Second)
	p.WaitOutput(t, "ns="+ns.Name, 10*time.Second)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal: %v", err)
	}
	if err := p.Wait(10 * time.Second); err == nil {
		t.Fatal("sleep killed by SIGTERM reported a clean exit")
	}
	if !p.Exited() {
		t.Fatal("process still running after Wait")
	}
}

func TestIntegrationDoRunsInsideTheNamespace(t *testing.T) {
	netnstest.RequirePrivileged(t)
	ns := netnstest.New(t)
	var names []string
	if err := ns.Do(func() error {
		links, err := netlink.LinkList()
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lo"}, names); diff != "" {
		t.Errorf("links seen inside a fresh namespace (-want +got):\n%s", diff)
	}
}

// TestIntegrationStartSurvivesDo: a started program must not die when
// goroutines that entered namespaces with Do end and take their threads
// with them (Pdeathsig follows the forking thread).
func TestIntegrationStartSurvivesDo(t *testing.T) {
	netnstest.RequirePrivileged(t, "sleep")
	ns := netnstest.New(t)
	p := ns.Start(t, "sleep", "60")
	for i := 0; i < 200; i++ {
		if err := ns.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if p.Exited() {
		t.Fatalf("sleep exited after Do calls: %v", p.ExitErr())
	}
}

// TestIntegrationKillChildrenEndsWhatOutlivesTheProgram: a child left
// running by a stopped program is killed, found through the program's
// process group.
func TestIntegrationKillChildrenEndsWhatOutlivesTheProgram(t *testing.T) {
	netnstest.RequirePrivileged(t, "sh", "sleep")
	ns := netnstest.New(t)
	p := ns.Start(t, "sh", "-c", `sleep 60 & echo "child=$!"; wait`)
	p.WaitOutput(t, "child=", 10*time.Second)
	var child int
	if _, err := fmt.Sscanf(p.Output()[strings.Index(p.Output(), "child="):], "child=%d", &child); err != nil {
		t.Fatalf("child PID in %q: %v", p.Output(), err)
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	p.Stop(5 * time.Second)
	if !alive(child) {
		t.Fatalf("child %d did not outlive sh, nothing to test", child)
	}
	if err := p.KillChildren(); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, "the child to die", 10*time.Second, func() bool { return !alive(child) })
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
