package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// syncdConns is how many long-lived connections each failover carries.
const syncdConns = 16

// syncdGlobal is what the test adds to the article's keepalived.conf: the
// sync daemon on the service network, following the article's instance.
const syncdGlobal = "global_defs {\n    lvs_sync_daemon eth1 192.168.0.100\n}\n\n"

// impl starts one implementation on a balancer; noSync runs it without
// lvs_sync_daemon, for a baseline.
type impl struct {
	name   string
	noSync bool
	start  func(t *testing.T, b *cluster.Balancer, conf string) *topology.Proc
}

// failoverFigures is what one failover showed.
type failoverFigures struct {
	conns        int // long-lived connections open and served before
	syncedBefore int // of them, entries in the backup's IPVS before
	atTakeover   int // of them, entries in the new master's IPVS once it is MASTER
	survived     int // served again on the same connection after
	byServer     map[string][2]int
}

// TestVMSyncDaemonFailover runs the article's keepalived.conf with
// lvs_sync_daemon added, first with lbnode on both balancers, then with
// keepalived on both (and, as a baseline, lbnode without the sync
// daemon), and for each: opens long-lived keep-alive HTTP
// connections through the VIP, waits until the BACKUP's IPVS holds their
// entries (sent by the MASTER's sync daemon), then fails the MASTER over
// gracefully (SIGTERM) and, after it came back as BACKUP, abruptly (SIGKILL
// of its whole process group). It prints how many connections were served
// again on the same socket, next to keepalived's, and checks what holds
// whatever the timing: lbnode's daemons run as master and backup where
// keepalived's would, and the new master's IPVS holds the connections'
// entries after each failover.
func TestVMSyncDaemonFailover(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "nginx", "nc", "env", "sysctl", "nft")
	dir := t.TempDir()
	natSwitch := installNatSwitch(t, dir)
	article, err := os.ReadFile("../../internal/config/testdata/article-keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	lbnode := func(t *testing.T, b *cluster.Balancer, conf string) *topology.Proc {
		n := &node{b: b, conf: conf}
		startNode(t, n)
		return n.proc
	}
	keepalived := func(t *testing.T, b *cluster.Balancer, conf string) *topology.Proc {
		d := filepath.Join(dir, "ka-"+b.Name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p, err := b.NS.Start("keepalived", "-n", "-l", "-D", "-f", conf,
			"-p", filepath.Join(d, "ka.pid"), "-r", filepath.Join(d, "vrrp.pid"), "-c", filepath.Join(d, "check.pid"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			p.Stop(10 * time.Second)
			if t.Failed() {
				t.Logf("keepalived on %s:\n%s", b.Name, p.Output())
			}
		})
		return p
	}
	impls := []impl{
		{"lbnode", false, lbnode},
		{"keepalived", false, keepalived},
		{"lbnode-nosync", true, lbnode},
	}
	results := map[string][2]failoverFigures{}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			g, k := syncdRun(t, im, dir, string(article), natSwitch)
			results[im.name] = [2]failoverFigures{g, k}
		})
	}
	t.Logf("long-lived TCP connections through the VIP served again on the same socket after the failover (same keepalived.conf):")
	t.Logf("%-14s %-19s %5s %13s %18s %8s  %s", "", "failover", "conns", "synced before", "new master entries", "survived", "by real server: survived/opened")
	for _, im := range impls {
		for i, what := range []string{"graceful (SIGTERM)", "SIGKILL of group"} {
			f, ok := results[im.name]
			if !ok {
				continue
			}
			x := f[i]
			t.Logf("%-14s %-19s %5d %13d %18d %8d  %s", im.name, what, x.conns, x.syncedBefore, x.atTakeover, x.survived, x.servers())
		}
	}
}

// syncdRun builds a fresh cluster and runs both failovers with im.
func syncdRun(t *testing.T, im impl, dir, article, natSwitch string) (graceful, killed failoverFigures) {
	c, err := cluster.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("removing the cluster: %v", err)
		}
	})
	for _, b := range c.Balancers {
		if out, err := b.NS.Command("sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1").CombinedOutput(); err != nil {
			t.Fatalf("%s: sysctl: %v: %s", b.Name, err, out)
		}
	}
	sub := filepath.Join(dir, im.name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	confs := map[*cluster.Balancer]string{}
	for i, b := range c.Balancers {
		s, err := cluster.KeepalivedConf(article, 102-i, natSwitch)
		if err != nil {
			t.Fatal(err)
		}
		if !im.noSync {
			s = syncdGlobal + s
		}
		p := filepath.Join(sub, b.Name+".conf")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		confs[b] = p
		startNginx(t, b, sub)
	}
	lb1, lb2 := c.Balancers[0], c.Balancers[1]
	procs := map[*cluster.Balancer]*topology.Proc{}
	procs[lb1] = im.start(t, lb1, confs[lb1])
	netnstest.WaitFor(t, "lb1 holding the VIP", 60*time.Second, lb1.HasVIP)
	procs[lb2] = im.start(t, lb2, confs[lb2])

	// failover fails the MASTER m over with fault, checks the daemons and
	// the entries, and counts the connections that survive.
	failover := func(m *cluster.Balancer, fault string) failoverFigures {
		t.Helper()
		o := c.Other(m)
		if !im.noSync {
			waitDaemons(t, m, o)
		}
		for _, b := range []*cluster.Balancer{m, o} {
			netnstest.WaitFor(t, b.Name+"'s IPVS forwarding to both nginx", 60*time.Second, func() bool {
				out := ipvsadm(t, b, "-Ln")
				return strings.Contains(out, "-> 172.16.0.1:80") && strings.Contains(out, "-> 172.16.0.2:80")
			})
		}
		if !m.HasVIP() || o.HasVIP() {
			t.Fatalf("VIP on %s %v, on %s %v; want %s only", m.Name, m.HasVIP(), o.Name, o.HasVIP(), m.Name)
		}
		conns := openConns(t, c, syncdConns)
		defer func() {
			for _, cn := range conns {
				cn.Close()
			}
		}()
		var f failoverFigures
		f.conns = len(conns)
		ports := map[uint16]bool{}
		for _, cn := range conns {
			ports[cn.port] = true
		}
		servers := ipvsEntries(t, m, ports)
		// The MASTER's sync daemon sends a connection once it has seen 3
		// packets of it, and again every 50; two requests each are enough.
		roundTrip(conns, 5*time.Second)
		if im.noSync {
			time.Sleep(3 * time.Second)
		} else {
			netnstest.WaitFor(t, o.Name+"'s IPVS holding the synced connections", 60*time.Second, func() bool {
				return len(ipvsEntries(t, o, ports)) == len(ports)
			})
		}
		f.syncedBefore = len(ipvsEntries(t, o, ports))
		// One more request each, so that no connection is idle long
		// before the fault.
		roundTrip(conns, 5*time.Second)

		switch fault {
		case "graceful":
			if err := procs[m].Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		case "kill":
			if err := cluster.KillGroup(procs[m]); err != nil {
				t.Fatal(err)
			}
		}
		netnstest.WaitFor(t, o.Name+" holding the VIP after "+m.Name+"'s "+fault+" failover", 60*time.Second, o.HasVIP)
		if fault == "graceful" {
			if err := procs[m].Wait(30 * time.Second); err != nil {
				t.Logf("%s on %s after SIGTERM: %v", im.name, m.Name, err)
			}
		}
		if im.noSync {
			time.Sleep(time.Second)
		} else {
			// The node that took over: a master daemon, no backup.
			netnstest.WaitFor(t, o.Name+"'s master sync daemon", 30*time.Second, func() bool {
				out := ipvsadm(t, o, "-L", "--daemon")
				return strings.Contains(out, "master sync daemon (mcast=eth1, syncid=1") && !strings.Contains(out, "backup sync daemon")
			})
		}
		f.atTakeover = len(ipvsEntries(t, o, ports))
		ok := roundTrip(conns, 15*time.Second)
		f.byServer = map[string][2]int{}
		for i, cn := range conns {
			rs := servers[cn.port]
			x := f.byServer[rs]
			x[1]++
			if ok[i] {
				f.survived++
				x[0]++
			}
			f.byServer[rs] = x
		}
		t.Logf("%s, %s failover of %s: %d connections, %d in %s's IPVS before, %d once it was MASTER, %d served again; by real server (survived/opened): %s",
			im.name, fault, m.Name, f.conns, f.syncedBefore, o.Name, f.atTakeover, f.survived, f.servers())
		if !im.noSync && f.atTakeover == 0 {
			t.Errorf("%s failover: %s's IPVS holds none of the %d connections' entries once MASTER", fault, o.Name, f.conns)
		}
		return f
	}

	graceful = failover(lb1, "graceful")
	// lb1 comes back as BACKUP (nopreempt) and gets lb2's connections.
	procs[lb1] = im.start(t, lb1, confs[lb1])
	killed = failover(lb2, "kill")
	return graceful, killed
}

// servers formats byServer as "172.16.0.1:80 0/8, 172.16.0.2:80 8/8".
func (f failoverFigures) servers() string {
	var out []string
	for _, rs := range []string{"172.16.0.1:80", "172.16.0.2:80"} {
		if x, ok := f.byServer[rs]; ok {
			out = append(out, fmt.Sprintf("%s %d/%d", rs, x[0], x[1]))
		}
	}
	if x, ok := f.byServer[""]; ok {
		out = append(out, fmt.Sprintf("unknown %d/%d", x[0], x[1]))
	}
	return strings.Join(out, ", ")
}

// waitDaemons waits until the MASTER m runs a master sync daemon and the
// BACKUP o a backup one, as keepalived drives them.
func waitDaemons(t *testing.T, m, o *cluster.Balancer) {
	t.Helper()
	netnstest.WaitFor(t, m.Name+"'s master and "+o.Name+"'s backup sync daemons", 60*time.Second, func() bool {
		mo, oo := ipvsadm(t, m, "-L", "--daemon"), ipvsadm(t, o, "-L", "--daemon")
		return strings.Contains(mo, "master sync daemon (mcast=eth1, syncid=1") && !strings.Contains(mo, "backup sync daemon") &&
			strings.Contains(oo, "backup sync daemon (mcast=eth1, syncid=1") && !strings.Contains(oo, "master sync daemon")
	})
}

// ipvsEntries returns the real server of each connection of b's IPVS
// (ipvsadm -Lnc) from the client to VIP:80 whose client port is in ports.
func ipvsEntries(t *testing.T, b *cluster.Balancer, ports map[uint16]bool) map[uint16]string {
	t.Helper()
	out := ipvsadm(t, b, "-Lnc")
	got := map[uint16]string{}
	vip := netip.AddrPortFrom(cluster.VIP, 80).String()
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		// pro expire state source virtual destination
		if len(f) != 6 || f[0] != "TCP" || f[4] != vip {
			continue
		}
		src, err := netip.ParseAddrPort(f[3])
		if err != nil || src.Addr() != cluster.ClientAddr || !ports[src.Port()] {
			continue
		}
		got[src.Port()] = f[5]
	}
	return got
}

// keepConn is one long-lived keep-alive HTTP connection of the client.
type keepConn struct {
	net.Conn
	rd   *bufio.Reader
	port uint16
}

// openConns opens n keep-alive connections from the client to VIP:80,
// each served once.
func openConns(t *testing.T, c *cluster.Cluster, n int) []*keepConn {
	t.Helper()
	var out []*keepConn
	for range n {
		var conn net.Conn
		if err := c.Client.Do(func() (err error) {
			conn, err = net.DialTimeout("tcp4", netip.AddrPortFrom(cluster.VIP, 80).String(), 5*time.Second)
			return err
		}); err != nil {
			t.Fatalf("connecting to the VIP: %v", err)
		}
		kc := &keepConn{Conn: conn, rd: bufio.NewReader(conn), port: uint16(conn.LocalAddr().(*net.TCPAddr).Port)}
		if err := kc.get(5 * time.Second); err != nil {
			t.Fatalf("first request on connection %d: %v", len(out), err)
		}
		out = append(out, kc)
	}
	return out
}

// get sends one GET on the connection and reads the answer.
func (k *keepConn) get(timeout time.Duration) error {
	k.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(k, "GET / HTTP/1.1\r\nHost: "+cluster.VIP.String()+"\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(k.rd, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "Hello from server-") {
		return fmt.Errorf("%s %q", resp.Status, body)
	}
	if resp.Close {
		return fmt.Errorf("server closes the connection")
	}
	return nil
}

// roundTrip sends one request on every connection at once and reports
// which were answered within timeout.
func roundTrip(conns []*keepConn, timeout time.Duration) []bool {
	ok := make([]bool, len(conns))
	var wg sync.WaitGroup
	for i, cn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = cn.get(timeout) == nil
		}()
	}
	wg.Wait()
	return ok
}
