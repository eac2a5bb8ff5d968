package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/natswitch"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// TestMain lets the test binary stand in for lbnode (LVSKIT_LBNODE_MAIN=1)
// and for natswitch (LVSKIT_NATSWITCH_MAIN=1),
// so that the VM tier needs no separate build, and runs the TestVM tests in
// the test VM when the host kernel has no IPVS.
func TestMain(m *testing.M) {
	// natswitch first: lbnode's notify programs inherit its environment.
	if os.Getenv("LVSKIT_NATSWITCH_MAIN") == "1" {
		os.Exit(natswitch.Run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if os.Getenv("LVSKIT_LBNODE_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	vmtest.Main(m, "ip_vs", "ip_vs_wlc", "ip_vs_rr", "nf_conntrack", "nf_nat", "nft_chain_nat", "nft_nat")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-f"}, {"-f", "x.yaml", "extra"}, {"-nope"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, code, errb.String())
		}
		if !strings.Contains(errb.String(), "usage: lbnode -f FILE [-check] [-metrics ADDR]") {
			t.Errorf("run(%q) printed no usage:\n%s", args, errb.String())
		}
	}
}

func TestCheckPrintsThePlan(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-f", "../../internal/config/testdata/article-keepalived.conf", "-check"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	for _, want := range []string{
		"vrrp_instance 192.168.0.100: interface eth1, vrid 1, priority 102",
		"TCP 192.168.0.100:80 wlc DR, delay_loop 6s",
		"MISC_CHECK",
		"-A -t 192.168.0.100:80 -s wlc",
		"-a -u 192.168.0.100:53 -r 172.16.0.2:53 -g -w 1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-check output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadConfigNamesFileLineAndDirective(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte("vrrp_instance v {\n  interface eth1\n  virtual_router_id abc\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-f", p, "-check"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if want := p + ":3: virtual_router_id"; !strings.Contains(errb.String(), want) {
		t.Errorf("error lacks %q:\n%s", want, errb.String())
	}
}

func TestExampleConfigChecks(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-f", "lbnode.yaml", "-check"}, &out, &errb); code != 0 {
		t.Fatalf("lbnode -f lbnode.yaml -check: exit %d:\n%s", code, errb.String())
	}
	for _, want := range []string{"prefix /var/lib/lvskit/nginx", "-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-check output lacks %q:\n%s", want, out.String())
		}
	}
}
