package agent

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// syncGroupConf is the usual two-interface sync group: one instance on the
// clients' side, one on the servers' side.
func syncGroupConf(prio int, notify, fifo string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  vrrp_notify_fifo %[3]s
}
vrrp_sync_group G {
  group {
    VI_LAN
    VI_SVC
  }
  notify %[2]s
}
vrrp_instance VI_LAN {
  state BACKUP
  interface eth0
  virtual_router_id 10
  priority %[1]d
  advert_int 1
  virtual_ipaddress {
    192.168.0.100/24 dev eth0
  }
}
vrrp_instance VI_SVC {
  state BACKUP
  interface eth1
  virtual_router_id 20
  priority %[1]d
  advert_int 1
  virtual_ipaddress {
    172.16.0.100/24 dev eth1
  }
}
`, prio, notify, fifo)
}

// fifoReader collects the lines written to a FIFO it creates.
type fifoReader struct {
	mu    sync.Mutex
	lines []string
}

func readFIFO(t *testing.T, path string) *fifoReader {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	// Read-write, so that reads wait for writers instead of ending.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fr := &fifoReader{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fr.mu.Lock()
			fr.lines = append(fr.lines, sc.Text())
			fr.mu.Unlock()
		}
	}()
	t.Cleanup(func() { f.Close(); <-done })
	return fr
}

func (fr *fifoReader) has(line string) bool {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return slices.Contains(fr.lines, line)
}

func hasAddr(t *testing.T, ns *netnstest.NS, ifname, ip string) bool {
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
		if a.IP.String() == ip {
			return true
		}
	}
	return false
}

// When lbnode's instance on eth0 loses its link, its sync group takes the
// instance on eth1 to FAULT too, so that the keepalived peer holds both
// VIPs; when the link comes back both return to lbnode (priority 150
// against 100).
func TestIntegrationSyncGroupMovesTogether(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	tp.Bridge("svc")
	lb1, lb2 := tp.Host("lb1"), tp.Host("lb2")
	tp.Connect(lb1, "eth0", "lan", "192.168.0.11/24")
	tp.Connect(lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lb2, "eth0", "lan", "192.168.0.12/24")
	tp.Connect(lb2, "eth1", "svc", "172.16.0.2/24")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := func(node string) (string, string) {
		out := filepath.Join(dir, node+".notified")
		p := write(node+"-notify.sh", "#!/bin/sh\necho \"$@\" >> "+out+"\n")
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p, out
	}
	notify1, out1 := script("lb1")
	notify2, out2 := script("lb2")
	fifo1, fifo2 := filepath.Join(dir, "lb1.fifo"), filepath.Join(dir, "lb2.fifo")
	fr1, fr2 := readFIFO(t, fifo1), readFIFO(t, fifo2)
	startAgentIn(t, lb1, write("lb1.conf", syncGroupConf(150, notify1, fifo1)), nil)
	ka := lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", syncGroupConf(100, notify2, fifo2)),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })

	on := func(ns *netnstest.NS) string {
		return fmt.Sprintf("lan %v svc %v", hasAddr(t, ns, "eth0", "192.168.0.100"), hasAddr(t, ns, "eth1", "172.16.0.100"))
	}
	wait := func(what, want1, want2 string) {
		t.Helper()
		netnstest.WaitFor(t, what, 20*time.Second, func() bool { return on(lb1) == want1 && on(lb2) == want2 })
	}
	wait("both VIPs on lbnode", "lan true svc true", "lan false svc false")

	lb1.Run(t, "ip", "link", "set", "eth0", "down")
	// lb1's eth0 is down, so only the svc VIP can be seen there.
	netnstest.WaitFor(t, "both VIPs on keepalived, none left on lbnode's eth1", 20*time.Second, func() bool {
		return !hasAddr(t, lb1, "eth1", "172.16.0.100") && on(lb2) == "lan true svc true"
	})
	ka.WaitOutput(t, "VRRP_Group(G) Syncing instances to MASTER state", 5*time.Second)

	lb1.Run(t, "ip", "link", "set", "eth0", "up")
	wait("both VIPs back on lbnode", "lan true svc true", "lan false svc false")
	ka.WaitOutput(t, "VRRP_Group(G) Syncing instances to BACKUP state", 5*time.Second)

	// The group's generic notify program was called with keepalived's
	// arguments on both nodes.
	notified := func(path, line string) bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), line+"\n")
	}
	for _, c := range []struct{ path, line string }{
		{out1, "GROUP G FAULT 0"}, {out1, "GROUP G MASTER 0"},
		{out2, "GROUP G MASTER 0"}, {out2, "GROUP G BACKUP 0"},
	} {
		netnstest.WaitFor(t, c.path+": "+c.line, 10*time.Second, func() bool { return notified(c.path, c.line) })
	}
	// And vrrp_notify_fifo got keepalived's lines on both.
	for _, c := range []struct {
		node string
		fr   *fifoReader
		line string
	}{
		{"lbnode", fr1, `INSTANCE "VI_LAN" FAULT 150`}, {"lbnode", fr1, `INSTANCE "VI_SVC" FAULT 150`},
		{"lbnode", fr1, `GROUP "G" FAULT 0`}, {"lbnode", fr1, `INSTANCE "VI_SVC" MASTER 150`}, {"lbnode", fr1, `GROUP "G" MASTER 0`},
		{"keepalived", fr2, `INSTANCE "VI_SVC" MASTER 100`}, {"keepalived", fr2, `GROUP "G" MASTER 0`},
		{"keepalived", fr2, `INSTANCE "VI_SVC" BACKUP 100`}, {"keepalived", fr2, `GROUP "G" BACKUP 0`},
	} {
		netnstest.WaitFor(t, c.node+"'s FIFO: "+c.line, 10*time.Second, func() bool { return c.fr.has(c.line) })
	}
}
