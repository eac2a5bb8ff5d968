package main

import (
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// buildLvscheck compiles this program into a temporary directory.
func buildLvscheck(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lvscheck")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestIntegrationMiscPathForDNS runs lvscheck the way keepalived runs a
// misc_path, from the balancer's namespace against a DNS server on another
// host, in place of the article's "nc -zn -u IP 53".
func TestIntegrationMiscPathForDNS(t *testing.T) {
	netnstest.RequirePrivileged(t, "go", "nc")
	bin := buildLvscheck(t)
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	lb, dns := tp.Host("lb"), tp.Host("dns")
	tp.Connect(lb, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(dns, "eth0", "svc", "172.16.0.201/24")
	for i := 0; ; i++ { // bounded wait for the link
		if err := lb.Command("ping", "-c1", "-W1", "172.16.0.201").Run(); err == nil {
			break
		} else if i == 20 {
			t.Fatalf("dns host unreachable: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var pc net.PacketConn
	if err := dns.Do(func() (err error) {
		pc, err = net.ListenPacket("udp", "172.16.0.201:53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	serveDNS(t, pc)

	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"udp port with a DNS server", []string{"-timeout", "2s", "udp", "172.16.0.201:53"}, 0, "up"},
		{"dns query to the server", []string{"-timeout", "2s", "dns", "172.16.0.201:53"}, 0, "up: response code NOERROR"},
		{"udp port without a server", []string{"-timeout", "2s", "udp", "172.16.0.201:54"}, 1, "down: port unreachable (ICMP)"},
		{"udp to a host that does not exist", []string{"-timeout", "5s", "udp", "172.16.0.202:53"}, 1, "down: read reply: no route to host"},
		{"tcp port without a server", []string{"-timeout", "2s", "tcp", "172.16.0.201:53"}, 1, "down: connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := lb.Command(bin, tt.args...).CombinedOutput()
			if code := exitCode(err); code != tt.code || !strings.Contains(string(out), tt.out) {
				t.Errorf("lvscheck %s: exit %d, output %q; want exit %d and %q", strings.Join(tt.args, " "), code, out, tt.code, tt.out)
			}
		})
	}

	// For the record, what the article's nc check says about the same
	// targets (OpenBSD nc: a UDP "scan" without -w cannot see a silent
	// absent host).
	for _, target := range []string{"172.16.0.201", "172.16.0.202"} {
		err := lb.Command("nc", "-zn", "-u", "-w", "2", target, "53").Run()
		t.Logf("nc -zn -u -w 2 %s 53: exit %d", target, exitCode(err))
	}
}
