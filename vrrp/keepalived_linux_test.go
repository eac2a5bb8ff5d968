package vrrp

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// keepalivedConf is the article's vrrp_instance for keepalived.
func keepalivedConf(prio int, pass string) string {
	auth := ""
	if pass != "" {
		auth = fmt.Sprintf("\tauthentication {\n\t\tauth_type PASS\n\t\tauth_pass %s\n\t}\n", pass)
	}
	return fmt.Sprintf(`global_defs {
	router_id lvskit_test
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 1
	priority %d
	advert_int 1
%s	virtual_ipaddress {
		192.168.0.100/24 dev eth0
	}
}
`, prio, auth)
}

type keepalived struct {
	p *netnstest.Proc
}

// startKeepalived runs Debian's keepalived, VRRP only, in the foreground
// inside ns. Its VRRP child is killed at cleanup if still there.
func startKeepalived(t *testing.T, ns *netnstest.NS, conf string) *keepalived {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &keepalived{}
	// Registered before Start, so it runs after the main process is stopped.
	t.Cleanup(func() {
		if k.p != nil {
			_ = k.p.KillChildren()
		}
	})
	k.p = ns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", file,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	return k
}

// waitLog polls keepalived's output for substr after the first occurrence
// of after (if not empty).
func (k *keepalived) waitLog(t *testing.T, after, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out := k.p.Output()
		if i := strings.Index(out, after); i >= 0 && strings.Contains(out[i+len(after):], substr) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("keepalived did not log %q after %q within %v; output:\n%s", substr, after, timeout, k.p.Output())
}

func articleConfigPass(prio uint8, pass string) Config {
	c := articleConfig(prio)
	c.AuthPass = pass
	return c
}

func TestIntegrationKeepalivedHigherThenKilled(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	for _, pass := range []string{"", "secret"} {
		t.Run("auth="+pass, func(t *testing.T) {
			_, hs := articleHosts(t, 2)
			k := startKeepalived(t, hs[0], keepalivedConf(150, pass))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			s := startSpeaker(t, hs[1], articleConfigPass(100, pass))
			s.waitState(t, StateBackup, 10*time.Second)
			s.holdState(t, StateBackup, 5*time.Second)
			if st := s.r.Stats().Instances[0]; st.AdvertsReceived < 3 || st.DroppedTotal() != 0 {
				t.Errorf("keepalived's adverts: %d accepted, drops %v", st.AdvertsReceived, st.Dropped)
			}
			waitAddr(t, hs[0], "eth0", articleVIP, true)
			if hasAddr(t, hs[1], "eth0", articleVIP) {
				t.Errorf("lvskit BACKUP holds the VIP")
			}
			// kill -9: keepalived's VRRP child still resigns with priority 0.
			if err := k.p.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			s.waitState(t, StateMaster, 20*time.Second)
			waitAddr(t, hs[1], "eth0", articleVIP, true)
			t.Logf("took over: %v", s.last().Cause)
		})
	}
}

func TestIntegrationLvskitHigherKeepalivedBacksOff(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	for _, pass := range []string{"", "secret"} {
		t.Run("auth="+pass, func(t *testing.T) {
			_, hs := articleHosts(t, 2)
			k := startKeepalived(t, hs[0], keepalivedConf(100, pass))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			waitAddr(t, hs[0], "eth0", articleVIP, true)
			s := startSpeaker(t, hs[1], articleConfigPass(150, pass))
			s.waitState(t, StateMaster, 20*time.Second)
			k.waitLog(t, "Entering MASTER STATE", "Entering BACKUP STATE", 20*time.Second)
			k.waitLog(t, "Entering MASTER STATE", "received advert from 172.16.0.2 with higher priority 150", 5*time.Second)
			waitAddr(t, hs[0], "eth0", articleVIP, false)
			waitAddr(t, hs[1], "eth0", articleVIP, true)
			if got := s.last().Cause; got.Kind != CausePreempt || got.Priority != 100 {
				t.Errorf("cause %v, want preempting keepalived's priority 100", got)
			}
			// Graceful stop: keepalived takes back over after our priority 0.
			s.stop(t)
			k.waitLog(t, "Entering BACKUP STATE", "Entering MASTER STATE", 20*time.Second)
			waitAddr(t, hs[0], "eth0", articleVIP, true)
		})
	}
}

func TestIntegrationPayloadIdenticalToKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "tcpdump", "tshark")
	for _, pass := range []string{"", "secret"} {
		t.Run("auth="+pass, func(t *testing.T) {
			_, hs := articleHosts(t, 2)
			// hs[1] observes; hs[0] runs keepalived, then lvskit, alone and
			// with the same configuration.
			first := func(c *capture) vrrpPacket {
				t.Helper()
				for _, p := range vrrpPackets(c.stop(t)) {
					if p.src == svcAddr(0) && p.prio == 120 {
						return p
					}
				}
				t.Fatalf("no advert from %v captured", svcAddr(0))
				return vrrpPacket{}
			}
			kc := startCapture(t, hs[1], "eth1")
			k := startKeepalived(t, hs[0], keepalivedConf(120, pass))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			time.Sleep(1500 * time.Millisecond)
			k.p.Signal(syscall.SIGTERM)
			if err := k.p.Wait(15 * time.Second); err != nil {
				t.Logf("keepalived exit: %v", err)
			}
			ka := first(kc)

			lc := startCapture(t, hs[1], "eth1")
			s := startSpeaker(t, hs[0], articleConfigPass(120, pass))
			s.waitState(t, StateMaster, 20*time.Second)
			time.Sleep(1500 * time.Millisecond)
			s.stop(t)
			ours := first(lc)

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
			// Our own encoder agrees too.
			m, err := NewMachine(articleConfigPass(120, pass), svcAddr(0))
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, MaxLen)
			n, err := m.Advert(120).MarshalTo(b, Pseudo{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ka.payload, b[:n]); diff != "" {
				t.Errorf("MarshalTo (-keepalived +lvskit):\n%s", diff)
			}
			t.Logf("keepalived and lvskit payload: % x", ours.payload)
		})
	}
}

// keepalived preempts a lvskit MASTER: lvskit's last advert on yielding
// reaches keepalived as a lower-priority advert, which it answers by
// refreshing the neighbours (its log says so) while staying MASTER.
func TestIntegrationKeepalivedPreemptsAndHearsTheYieldAdvert(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	_, hs := articleHosts(t, 2)
	s := startSpeaker(t, hs[1], articleConfig(100))
	s.waitState(t, StateMaster, 20*time.Second)
	k := startKeepalived(t, hs[0], keepalivedConf(150, ""))
	k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
	s.waitState(t, StateBackup, 10*time.Second)
	k.waitLog(t, "Entering MASTER STATE", "Received advert from 172.16.0.2 with lower priority 100, ours 150", 5*time.Second)
	if st := s.r.Stats().Instances[0]; st.YieldAdverts != 1 {
		t.Errorf("lvskit sent %d adverts on yielding, want 1", st.YieldAdverts)
	}
	s.holdState(t, StateBackup, 3*time.Second)
	out := k.p.Output()
	if i := strings.Index(out, "Entering MASTER STATE"); strings.Count(out, "Entering MASTER STATE") != 1 || strings.Contains(out[i:], "Entering BACKUP STATE") {
		t.Errorf("keepalived left MASTER after lvskit yielded; output:\n%s", out)
	}
	waitAddr(t, hs[0], "eth0", articleVIP, true)
	waitAddr(t, hs[1], "eth0", articleVIP, false)
}

// TestIntegrationMcastSrcIPKeepalived gives each side a second address and
// makes it the source of its multicast adverts, sent to 224.0.0.19:
// keepalived by mcast_src_ip and mcast_dst_ip, lvskit by UnicastSrc
// without peers and Group. On the wire each side's adverts come from that
// address to that group, and each hears the other: lvskit (150) preempts
// keepalived, which logs the advert from lvskit's address.
func TestIntegrationMcastSrcIPKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "tcpdump", "ip")
	_, hs := articleHosts(t, 2)
	kaSrc, ourSrc := netip.MustParseAddr("172.16.0.101"), netip.MustParseAddr("172.16.0.102")
	hs[0].Run(t, "ip", "addr", "add", kaSrc.String()+"/24", "dev", "eth1")
	hs[1].Run(t, "ip", "addr", "add", ourSrc.String()+"/24", "dev", "eth1")
	group := netip.MustParseAddr("224.0.0.19")
	conf := strings.Replace(keepalivedConf(100, ""), "\tadvert_int 1\n", "\tadvert_int 1\n\tmcast_src_ip "+kaSrc.String()+"\n\tmcast_dst_ip "+group.String()+"\n", 1)
	k := startKeepalived(t, hs[0], conf)
	k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
	c := startCapture(t, hs[1], "eth1")
	cfg := articleConfig(150)
	cfg.UnicastSrc, cfg.Group = ourSrc, group
	s := startSpeaker(t, hs[1], cfg)
	s.waitState(t, StateMaster, 20*time.Second)
	k.waitLog(t, "Entering MASTER STATE", "Entering BACKUP STATE", 20*time.Second)
	k.waitLog(t, "Entering MASTER STATE", "received advert from "+ourSrc.String()+" with higher priority 150", 5*time.Second)
	s.holdState(t, StateMaster, 2*time.Second)
	srcs := map[uint8]map[netip.Addr]int{}
	for _, p := range vrrpPackets(c.stop(t)) {
		if p.dst != group {
			t.Errorf("advert to %v, want %v", p.dst, group)
		}
		if srcs[p.prio] == nil {
			srcs[p.prio] = map[netip.Addr]int{}
		}
		srcs[p.prio][p.src]++
	}
	t.Logf("adverts on the wire by priority and source: %v", srcs)
	if len(srcs[150]) != 1 || srcs[150][ourSrc] == 0 {
		t.Errorf("lvskit's adverts came from %v, want only %v", srcs[150], ourSrc)
	}
	if len(srcs[100]) != 1 || srcs[100][kaSrc] == 0 {
		t.Errorf("keepalived's adverts came from %v, want only %v", srcs[100], kaSrc)
	}
	if st := s.r.Stats().Instances[0]; st.DroppedTotal() != 0 {
		t.Errorf("lvskit dropped adverts: %v", st.Dropped)
	}
}
