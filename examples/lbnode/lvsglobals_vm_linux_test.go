package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// lvsGlobalsConf sets every lvs_timeouts option, lvs_flush and
// lvs_flush_on_stop, for one virtual server whose real server is not
// checked.
const lvsGlobalsConf = `global_defs {
  lvs_timeouts tcp 100 tcpfin 50 udp 30
  lvs_flush
  lvs_flush_on_stop
}
virtual_server 10.0.0.5 80 {
  protocol TCP
  lb_algo rr
  lb_kind DR
  real_server 10.0.0.21 80 {
    weight 1
  }
}
`

// TestVMLVSGlobalsMatchKeepalived runs lbnode and keepalived's checker,
// each in a namespace of its own holding a virtual server neither
// configures, on the same keepalived.conf with lvs_timeouts, lvs_flush
// and lvs_flush_on_stop. Both leave the same IPVS: the timeouts set
// (ipvsadm -L --timeout) and the foreign virtual server flushed before
// their own is written; after SIGTERM, IPVS flushed, a foreign virtual
// server added meanwhile included, and the namespace's timeouts back.
func TestVMLVSGlobalsMatchKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "env")
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(lvsGlobalsConf), 0o644); err != nil {
		t.Fatal(err)
	}
	const foreign = "-A -t 10.9.9.9:80 -s rr"
	type daemon struct {
		name string
		ns   *netnstest.NS
		proc *netnstest.Proc
		orig string // ipvsadm -L --timeout before the start
	}
	ds := []*daemon{{name: "lbnode", ns: netnstest.New(t)}, {name: "keepalived", ns: netnstest.New(t)}}
	for _, d := range ds {
		d.ns.Run(t, "ipvsadm", strings.Fields(foreign)...)
		d.orig = strings.TrimSpace(d.ns.Run(t, "ipvsadm", "-L", "--timeout"))
	}
	ds[0].proc = ds[0].ns.Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", conf)
	ds[1].proc = ds[1].ns.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", conf,
		"-p", filepath.Join(dir, "ka.pid"), "-c", filepath.Join(dir, "ka-check.pid"))
	t.Cleanup(func() { _ = ds[1].proc.KillChildren() })

	const own = "-A -t 10.0.0.5:80 -s rr"
	rules := func(d *daemon) string { return d.ns.Run(t, "ipvsadm", "-Sn") }
	timeouts := map[string]string{}
	for _, d := range ds {
		netnstest.WaitFor(t, d.name+"'s virtual server", 30*time.Second, func() bool {
			return strings.Contains(rules(d), own)
		})
		if r := rules(d); strings.Contains(r, foreign) {
			t.Errorf("%s with lvs_flush: the foreign virtual server is still there:\n%s", d.name, r)
		}
		timeouts[d.name] = strings.TrimSpace(d.ns.Run(t, "ipvsadm", "-L", "--timeout"))
		t.Logf("%s: before %q, after the start %q", d.name, d.orig, timeouts[d.name])
	}
	if want := "Timeout (tcp tcpfin udp): 100 50 30"; timeouts["keepalived"] != want {
		t.Errorf("keepalived's timeouts %q, want %q", timeouts["keepalived"], want)
	}
	if timeouts["lbnode"] != timeouts["keepalived"] {
		t.Errorf("timeouts after the start: lbnode %q, keepalived %q", timeouts["lbnode"], timeouts["keepalived"])
	}

	for _, d := range ds {
		d.ns.Run(t, "ipvsadm", strings.Fields(foreign)...)
		if err := d.proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range ds {
		if err := d.proc.Wait(30 * time.Second); err != nil {
			t.Logf("%s after SIGTERM: %v", d.name, err)
		}
		r := strings.TrimSpace(rules(d))
		to := strings.TrimSpace(d.ns.Run(t, "ipvsadm", "-L", "--timeout"))
		t.Logf("%s after the stop: rules %q, timeouts %q", d.name, r, to)
		if r != "" {
			t.Errorf("%s with lvs_flush_on_stop: IPVS after the stop:\n%s\nwant empty", d.name, r)
		}
		if to != d.orig {
			t.Errorf("%s: timeouts after the stop %q, want the namespace's %q back", d.name, to, d.orig)
		}
	}
}
