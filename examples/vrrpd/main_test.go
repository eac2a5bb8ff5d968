package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvskit/lvskit/vrrp"
)

func TestParseFlags(t *testing.T) {
	base := []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24"}
	o, err := parseFlags(append(base, "-priority", "150", "-vip-interface", "lo", "-advert-int", "2s",
		"-auth-pass", "secret", "-nopreempt", "-preempt-delay", "10s", "-unicast-src", "172.16.0.1",
		"-unicast-peer", "172.16.0.2,172.16.0.3", "-track-interface", "lo", "-garp-repeat", "3",
		"-garp-delay", "0", "-garp-refresh", "1m", "-metrics", ":9100"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := vrrp.Config{Interface: "lo", VRID: 1, Priority: 150, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")},
		VIPInterface: "lo", AdvertInterval: 2 * time.Second, AuthPass: "secret", NoPreempt: true, PreemptDelay: 10 * time.Second,
		UnicastSrc:      netip.MustParseAddr("172.16.0.1"),
		UnicastPeers:    []netip.Addr{netip.MustParseAddr("172.16.0.2"), netip.MustParseAddr("172.16.0.3")},
		TrackInterfaces: []string{"lo"}, GARPRepeat: 3, GARPDelay: -1, GARPRefresh: time.Minute}
	if diff := cmp.Diff(want, o.cfg, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if o.metrics != ":9100" {
		t.Errorf("metrics %q", o.metrics)
	}
	o, err = parseFlags(base, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Priority != 100 || o.cfg.AdvertInterval != time.Second || o.cfg.GARPRepeat != 5 || o.cfg.GARPDelay != 5*time.Second {
		t.Errorf("defaults: %+v", o.cfg)
	}
	// Bare numbers are seconds, as in keepalived.conf.
	o, err = parseFlags(append(base, "-advert-int", "3", "-garp-delay", "2.5"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.AdvertInterval != 3*time.Second || o.cfg.GARPDelay != 2500*time.Millisecond {
		t.Errorf("bare seconds: interval %v, garp delay %v", o.cfg.AdvertInterval, o.cfg.GARPDelay)
	}
}

func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	base := []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24"}
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"vrid 0", []string{"-interface", "lo", "-vrid", "0", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"vrid 256", []string{"-interface", "lo", "-vrid", "256", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"vrid not a number", []string{"-interface", "lo", "-vrid", "x", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"priority 0", append(base, "-priority", "0"), "-priority"},
		{"priority 256", append(base, "-priority", "256"), "-priority"},
		{"long password", append(base, "-auth-pass", "123456789"), "-auth-pass"},
		{"IPv6 VIP", []string{"-interface", "lo", "-vrid", "1", "-vip", "2001:db8::1/64"}, "-vip"},
		{"VIP without prefix", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100"}, "-vip"},
		{"second VIP bad", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24,nope"}, "-vip"},
		{"unknown interface", []string{"-interface", "nope0", "-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"unknown VIP interface", append(base, "-vip-interface", "nope0"), "-vip-interface"},
		{"unknown tracked interface", append(base, "-track-interface", "lo,nope0"), "-track-interface"},
		{"fractional interval", append(base, "-advert-int", "1500ms"), "-advert-int"},
		{"zero interval", append(base, "-advert-int", "0s"), "-advert-int"},
		{"interval not a duration", append(base, "-advert-int", "fast"), "-advert-int"},
		{"fractional seconds", append(base, "-advert-int", "1.5"), "-advert-int"},
		{"unicast src IPv6", append(base, "-unicast-src", "::1", "-unicast-peer", "172.16.0.2"), "-unicast-src"},
		{"unicast src without peer", append(base, "-unicast-src", "172.16.0.1"), "-unicast-peer"},
		{"multicast peer", append(base, "-unicast-peer", "224.0.0.18"), "-unicast-peer"},
		{"garp repeat 0", append(base, "-garp-repeat", "0"), "-garp-repeat"},
		{"negative garp delay", append(base, "-garp-delay", "-1s"), "-garp-delay"},
		{"negative preempt delay", append(base, "-preempt-delay", "-1s"), "-preempt-delay"},
		{"missing notify program", append(base, "-notify", "/nonexistent/notify"), "-notify"},
		{"no interface", []string{"-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"no vip", []string{"-interface", "lo", "-vrid", "1"}, "-vip"},
		{"unknown flag", append(base, "-bogus"), "-bogus"},
		{"stray argument", append(base, "extra"), "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.flag) {
				t.Errorf("message %q does not name %s", stderr.String(), tt.flag)
			}
		})
	}
}

func TestNotifierRunsInOrderWithKeepalivedArgs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "calls")
	prog := filepath.Join(dir, "notify")
	// A slow notify program must not reorder the calls.
	script := "#!/bin/sh\nsleep 0.05\necho \"$@\" >> " + out + "\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	n := newNotifier(prog, 10*time.Second, discardLogger())
	go n.run()
	for _, to := range []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateBackup, vrrp.StateStopped} {
		n.enqueue(vrrp.Transition{Instance: "VI_1", Priority: 102, To: to})
	}
	n.close(30 * time.Second)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "INSTANCE VI_1 BACKUP 102\nINSTANCE VI_1 MASTER 102\nINSTANCE VI_1 FAULT 102\nINSTANCE VI_1 BACKUP 102\nINSTANCE VI_1 STOP 102\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestNotifierTimeout(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "notify")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := newNotifier(prog, 200*time.Millisecond, discardLogger())
	go n.run()
	start := time.Now()
	n.enqueue(vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	n.close(20 * time.Second)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("a hung notify program held the queue %v", d)
	}
	select {
	case <-n.done:
	default:
		t.Errorf("notifier still running after close")
	}
}

type fakeStats vrrp.RouterStats

func (f fakeStats) Stats() vrrp.RouterStats { return vrrp.RouterStats(f) }

func TestMetrics(t *testing.T) {
	st := vrrp.Stats{Instance: "VI_1", VRID: 7, State: vrrp.StateMaster, AdvertsSent: 12, PriorityZeroSent: 1,
		AdvertsReceived: 3, Transitions: 2, BecameMaster: 1, GARPSent: 10}
	st.Dropped[vrrp.ReasonChecksum] = 4
	h := metricsHandler(fakeStats{Instances: []vrrp.Stats{st}, Unmatched: 5})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, line := range []string{
		`lvskit_vrrp_state{instance="VI_1",state="MASTER",vrid="7"} 1`,
		`lvskit_vrrp_state{instance="VI_1",state="BACKUP",vrid="7"} 0`,
		`lvskit_vrrp_adverts_sent_total{instance="VI_1",vrid="7"} 12`,
		`lvskit_vrrp_priority_zero_sent_total{instance="VI_1",vrid="7"} 1`,
		`lvskit_vrrp_adverts_received_total{instance="VI_1",vrid="7"} 3`,
		`lvskit_vrrp_adverts_dropped_total{instance="VI_1",reason="checksum",vrid="7"} 4`,
		`lvskit_vrrp_adverts_dropped_total{instance="VI_1",reason="ttl",vrid="7"} 0`,
		`lvskit_vrrp_transitions_total{instance="VI_1",vrid="7"} 2`,
		`lvskit_vrrp_became_master_total{instance="VI_1",vrid="7"} 1`,
		`lvskit_vrrp_garp_sent_total{instance="VI_1",vrid="7"} 10`,
		`lvskit_vrrp_unmatched_total 5`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q; got:\n%s", line, body)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
