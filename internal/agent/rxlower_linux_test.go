package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// rxLowerConf is one instance whose notify_master_rx_lower_pri program
// appends its arguments to a file, with the keepalived FIFO.
func rxLowerConf(state string, prio int, program, fifo string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  vrrp_notify_fifo %[4]s
}
vrrp_instance VI_1 {
  state %[1]s
  interface eth1
  virtual_router_id 30
  priority %[2]d
  advert_int 1
  notify_master_rx_lower_pri "%[3]s rx-lower"
  virtual_ipaddress {
    172.16.0.100/24 dev eth1
  }
}
`, state, prio, program, fifo)
}

// A MASTER that hears an advert of lower priority runs its
// notify_master_rx_lower_pri program, as configured, and writes INSTANCE
// "NAME" MASTER_RX_LOWER_PRI PRIORITY to the FIFO, as keepalived does:
// lbnode's agent is MASTER at 150 beside keepalived at 100, which, cut off
// from lbnode's adverts, becomes MASTER too.
func TestIntegrationMasterRxLowerPri(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "nft")
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	lb1, lb2 := tp.Host("lb1"), tp.Host("lb2")
	tp.Connect(lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lb2, "eth1", "svc", "172.16.0.2/24")
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := filepath.Join(dir, "rx.out")
	program := write("rx.sh", "#!/bin/sh\necho \"$@\" >> "+out+"\n", 0o755)
	fifo := filepath.Join(dir, "lb1.fifo")
	fr := readFIFO(t, fifo)
	startAgentIn(t, lb1, write("lb1.conf", rxLowerConf("BACKUP", 150, program, fifo), 0o644), nil)
	netnstest.WaitFor(t, "lbnode MASTER", 20*time.Second, func() bool { return hasAddr(t, lb1, "eth1", "172.16.0.100") })

	ka := lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", rxLowerConf("BACKUP", 100, "/bin/true", filepath.Join(dir, "lb2.fifo")), 0o644),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	ka.WaitOutput(t, "(VI_1) Entering BACKUP STATE", 20*time.Second)
	time.Sleep(2 * time.Second)
	if b, _ := os.ReadFile(out); len(b) > 0 {
		t.Fatalf("the program ran before any lower-priority advert: %q", b)
	}
	// keepalived stops hearing lbnode (one-way partition), becomes MASTER
	// and advertises its lower priority, which lbnode hears.
	lb2.Run(t, "nft", "add table inet t; add chain inet t in { type filter hook input priority 0 ; } ; add rule inet t in ip protocol vrrp drop")
	ka.WaitOutput(t, "(VI_1) Entering MASTER STATE", 20*time.Second)

	netnstest.WaitFor(t, "the notify_master_rx_lower_pri program run", 10*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return strings.Contains(string(b), "rx-lower\n")
	})
	netnstest.WaitFor(t, "the FIFO line", 10*time.Second, func() bool { return fr.has(`INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150`) })
	// Healed: keepalived yields, lbnode alone holds the VIP.
	lb2.Run(t, "nft", "delete table inet t")
	netnstest.WaitFor(t, "keepalived yielding", 10*time.Second, func() bool {
		return hasAddr(t, lb1, "eth1", "172.16.0.100") && !hasAddr(t, lb2, "eth1", "172.16.0.100")
	})
}
