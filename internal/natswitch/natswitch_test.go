package natswitch

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/nat"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestParse(t *testing.T) {
	base := []string{"-interface", "eth1", "-vip", "192.168.0.100"}
	vip := []netip.Addr{netip.MustParseAddr("192.168.0.100")}
	cfg := nat.Config{Interface: "eth1", VIPs: vip, Table: nat.DefaultTable, Chain: nat.DefaultChain}
	tests := []struct {
		name string
		args []string
		want options
	}{
		{"plain BACKUP", append(base, "BACKUP"), options{cfg: cfg, act: actBackup, what: "BACKUP"}},
		{"FAULT adds", append(base, "FAULT"), options{cfg: cfg, act: actBackup, what: "FAULT"}},
		{"lower case master", append(base, "master"), options{cfg: cfg, act: actMaster, what: "master"}},
		{"STOP adds", append(base, "STOP"), options{cfg: cfg, act: actBackup, what: "STOP"}},
		{"DELETED removes", append(base, "DELETED"), options{cfg: cfg, act: actMaster, what: "DELETED"}},
		{"keepalived instance", append(base, "INSTANCE", "VI_1", "BACKUP", "100"),
			options{cfg: cfg, act: actBackup, what: "INSTANCE VI_1 BACKUP 100"}},
		{"keepalived instance master", append(base, "INSTANCE", "VI_1", "MASTER", "102"),
			options{cfg: cfg, act: actMaster, what: "INSTANCE VI_1 MASTER 102"}},
		{"keepalived group", append(base, "GROUP", "G1", "FAULT"),
			options{cfg: cfg, act: actBackup, what: "GROUP G1 FAULT"}},
		{"status", append(base, "status"), options{cfg: cfg, act: actStatus, what: "status"}},
		{"cleanup", append(base, "cleanup"), options{cfg: cfg, act: actCleanup, what: "cleanup"}},
		{
			"all flags",
			[]string{"-interface", "eth2", "-vip", "192.168.0.100, fd00::100", "-local", "fd00::2,172.16.0.2",
				"-table", "t", "-chain", "c", "-lock", "", "-log", "/tmp/x.log", "BACKUP"},
			options{
				cfg: nat.Config{
					Interface: "eth2",
					VIPs:      []netip.Addr{netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("fd00::100")},
					LocalIPv4: netip.MustParseAddr("172.16.0.2"),
					LocalIPv6: netip.MustParseAddr("fd00::2"),
					Table:     "t",
					Chain:     "c",
				},
				act: actBackup, what: "BACKUP", logFile: "/tmp/x.log",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.lock == "" && !strings.Contains(strings.Join(tt.args, " "), "-lock") {
				tt.want.lock = "/run/natswitch.lock"
			}
			if diff := cmp.Diff(tt.want, got, addrCmp, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no interface", []string{"-vip", "192.168.0.100", "BACKUP"}, "-interface is required"},
		{"no vip", []string{"-interface", "eth1", "BACKUP"}, "-vip is required"},
		{"bad vip", []string{"-interface", "eth1", "-vip", "300.1.1.1", "BACKUP"}, `-vip "300.1.1.1": not an IP address`},
		{"vip with prefix", []string{"-interface", "eth1", "-vip", "192.168.0.100/24", "BACKUP"}, `-vip "192.168.0.100/24"`},
		{"empty vip in list", []string{"-interface", "eth1", "-vip", "192.168.0.100,", "BACKUP"}, `-vip "": not an IP address`},
		{"bad local", []string{"-interface", "eth1", "-vip", "192.168.0.100", "-local", "x", "BACKUP"}, `-local "x"`},
		{"two IPv4 locals", []string{"-interface", "eth1", "-vip", "192.168.0.100", "-local", "10.0.0.1,10.0.0.2", "BACKUP"}, "more than one address"},
		{"no state", []string{"-interface", "eth1", "-vip", "192.168.0.100"}, "missing STATE"},
		{"unknown state", []string{"-interface", "eth1", "-vip", "192.168.0.100", "SLAVE"}, `state "SLAVE"`},
		{"two words", []string{"-interface", "eth1", "-vip", "192.168.0.100", "VI_1", "BACKUP"}, `arguments "VI_1 BACKUP"`},
		{"not INSTANCE", []string{"-interface", "eth1", "-vip", "192.168.0.100", "X", "VI_1", "BACKUP", "100"}, `arguments "X VI_1 BACKUP 100"`},
		{"status as keepalived state", []string{"-interface", "eth1", "-vip", "192.168.0.100", "INSTANCE", "VI_1", "status", "100"}, `state "status"`},
		{"unknown flag", []string{"-interface", "eth1", "-vip", "192.168.0.100", "-bogus", "BACKUP"}, "-bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.args, io.Discard)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse error = %v, want a usage error containing %q", err, tt.want)
			}
			// run reports it with exit status 2, before touching anything.
			var stderr bytes.Buffer
			if code := Run(tt.args, io.Discard, &stderr); code != 2 {
				t.Errorf("run exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestPrintStatus(t *testing.T) {
	r := func(vip string) nat.Rule {
		return nat.Rule{Interface: "eth1", VIP: netip.MustParseAddr(vip), To: netip.MustParseAddr("172.16.0.2")}
	}
	tests := []struct {
		name              string
		wanted, installed []nat.Rule
		want              string
	}{
		{"backup", []nat.Rule{r("192.168.0.100")}, []nat.Rule{r("192.168.0.100")},
			"iifname \"eth1\" ip daddr 192.168.0.100 dnat to 172.16.0.2\nstate: BACKUP (1 of 1 rules present)\n"},
		{"master with another switch's rule", []nat.Rule{r("192.168.0.100")}, []nat.Rule{r("192.168.0.200")},
			"iifname \"eth1\" ip daddr 192.168.0.200 dnat to 172.16.0.2\nstate: MASTER (0 of 1 rules present)\n"},
		{"mixed", []nat.Rule{r("192.168.0.100"), r("192.168.0.101")}, []nat.Rule{r("192.168.0.101")},
			"iifname \"eth1\" ip daddr 192.168.0.101 dnat to 172.16.0.2\nstate: MIXED (1 of 2 rules present)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printStatus(&b, tt.wanted, tt.installed)
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}
