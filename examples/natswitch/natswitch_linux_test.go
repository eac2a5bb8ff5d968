package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// buildNatswitch builds this program into a fresh temporary directory.
func buildNatswitch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "natswitch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	code           int
	stdout, stderr string
}

// runIn runs the command line inside ns and returns its exit status and
// output.
func runIn(t *testing.T, ns *netnstest.NS, name string, args ...string) result {
	t.Helper()
	cmd := ns.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

const ruleLine = `iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2`

func rulesetWith(rules ...string) string {
	var b strings.Builder
	b.WriteString("table ip lvskit_nat {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n")
	for _, r := range rules {
		b.WriteString("\t\t" + r + "\n")
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// nodeNS returns a namespace with interface eth1 (172.16.0.2/24), natswitch's
// -interface, and the address-less interfaces in more; each is one end of
// a veth pair whose other end stays in the namespace.
func nodeNS(t *testing.T, more ...string) *netnstest.NS {
	t.Helper()
	ns := netnstest.New(t)
	nl := ns.Netlink(t)
	for _, name := range append([]string{"eth1"}, more...) {
		if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
			t.Fatal(err)
		}
	}
	eth1, err := nl.LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("172.16.0.2/24")
	if err := nl.AddrAdd(eth1, addr); err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestIntegrationNatswitchCommandLine(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "go", "setpriv")
	bin := buildNatswitch(t)
	ns := nodeNS(t, "bare0")
	lock := filepath.Join(t.TempDir(), "natswitch.lock")
	base := []string{"-interface", "eth1", "-vip", "192.168.0.100", "-lock", lock}

	steps := []struct {
		name    string
		via     []string // program and arguments before natswitch's own, if any
		args    []string
		code    int
		stdout  string // substring
		stderr  string // substring
		ruleset string
	}{
		{name: "bad VIP on a clean system", args: []string{"-interface", "eth1", "-vip", "192.168.0.300", "BACKUP"},
			code: 2, stderr: `-vip "192.168.0.300": not an IP address`, ruleset: ""},
		{name: "BACKUP adds", args: append(base, "BACKUP"),
			stdout: "BACKUP: rule present: " + ruleLine, ruleset: rulesetWith(ruleLine)},
		{name: "BACKUP again changes nothing", args: append(base, "BACKUP"), ruleset: rulesetWith(ruleLine)},
		{name: "status", args: append(base, "status"),
			stdout: ruleLine + "\nstate: BACKUP (1 of 1 rules present)\n", ruleset: rulesetWith(ruleLine)},
		{name: "missing interface", args: []string{"-interface", "eth9", "-vip", "192.168.0.100", "MASTER"},
			code: 1, stderr: `Interface "eth9": no such interface`, ruleset: rulesetWith(ruleLine)},
		{name: "interface without IPv4", args: []string{"-interface", "bare0", "-vip", "192.168.0.100", "MASTER"},
			code: 1, stderr: `Interface "bare0": no IPv4 address`, ruleset: rulesetWith(ruleLine)},
		{name: "unknown state", args: append(base, "INSTANCE", "VI_1", "SLAVE", "100"),
			code: 2, stderr: `state "SLAVE"`, ruleset: rulesetWith(ruleLine)},
		{name: "nftables unavailable without CAP_NET_ADMIN", via: []string{"setpriv", "--bounding-set", "-net_admin"},
			args: append(base, "MASTER"), code: 1, stderr: "nftables unavailable", ruleset: rulesetWith(ruleLine)},
		{name: "keepalived MASTER removes", args: append(base, "INSTANCE", "VI_1", "MASTER", "100"),
			stdout: "INSTANCE VI_1 MASTER 100: rule absent: " + ruleLine, ruleset: rulesetWith()},
		{name: "status as MASTER", args: append(base, "status"),
			stdout: "state: MASTER (0 of 1 rules present)\n", ruleset: rulesetWith()},
		{name: "keepalived FAULT adds", args: append(base, "INSTANCE", "VI_1", "FAULT", "100"),
			stdout: "rule present", ruleset: rulesetWith(ruleLine)},
		{name: "keepalived STOP keeps", args: append(base, "INSTANCE", "VI_1", "STOP", "100"),
			stdout: "rule present", ruleset: rulesetWith(ruleLine)},
		{name: "keepalived DELETED removes", args: append(base, "INSTANCE", "VI_1", "DELETED", "100"),
			stdout: "rule absent", ruleset: rulesetWith()},
		{name: "cleanup deletes the table", args: append(base, "cleanup"),
			stdout: "table lvskit_nat deleted", ruleset: ""},
	}
	for _, st := range steps {
		prog, args := bin, st.args
		if len(st.via) > 0 {
			prog, args = st.via[0], append(append(st.via[1:], bin), st.args...)
		}
		r := runIn(t, ns, prog, args...)
		if r.code != st.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", st.name, r.code, st.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, st.stdout) {
			t.Errorf("%s: stdout %q lacks %q", st.name, r.stdout, st.stdout)
		}
		if !strings.Contains(r.stderr, st.stderr) {
			t.Errorf("%s: stderr %q lacks %q", st.name, r.stderr, st.stderr)
		}
		if diff := cmp.Diff(st.ruleset, ns.Run(t, "nft", "list", "ruleset")); diff != "" {
			t.Errorf("%s: nft list ruleset (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestIntegrationNatswitchConcurrentRuns(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "go")
	bin := buildNatswitch(t)
	ns := nodeNS(t)
	lock := filepath.Join(t.TempDir(), "natswitch.lock")
	// Rounds of processes started together, as keepalived does for quick
	// transitions: whatever the order, the chain ends with at most one rule,
	// and with exactly one when every process asked for BACKUP.
	rounds := []struct {
		states []string
		want   []int // acceptable rule counts afterwards
	}{
		{[]string{"BACKUP", "BACKUP", "BACKUP", "BACKUP", "BACKUP", "BACKUP", "BACKUP", "BACKUP"}, []int{1}},
		{[]string{"MASTER", "BACKUP", "MASTER", "BACKUP", "FAULT", "MASTER", "BACKUP", "STOP"}, []int{0, 1}},
		{[]string{"MASTER", "MASTER", "MASTER", "MASTER"}, []int{0}},
	}
	for i, rd := range rounds {
		var cmds []*exec.Cmd
		for _, st := range rd.states {
			cmd := ns.Command(bin, "-interface", "eth1", "-vip", "192.168.0.100", "-lock", lock, "INSTANCE", "VI_1", st, "100")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("round %d: %v: %v", i, cmd.Args, err)
			}
		}
		got := strings.Count(ns.Run(t, "nft", "list", "ruleset"), "dnat to")
		if !slices.Contains(rd.want, got) {
			t.Errorf("round %d %v: %d rules, want one of %v", i, rd.states, got, rd.want)
		}
	}
}

// keepalivedConf is a keepalived.conf for one VRRP instance on eth1 with the
// VIP on eth0, as in the article, and natswitch as its notify program.
func keepalivedConf(routerID string, priority int, notify string) string {
	n := ""
	if notify != "" {
		n = fmt.Sprintf("\tnotify %q\n", notify)
	}
	return fmt.Sprintf(`global_defs {
	router_id %s
	enable_script_security
	script_user root
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 51
	priority %d
	advert_int 1
	authentication {
		auth_type PASS
		auth_pass secret
	}
	virtual_ipaddress {
		192.168.0.100/24 dev eth0
	}
%s}
`, routerID, priority, n)
}

func startKeepalived(t *testing.T, ns *netnstest.NS, dir, name, conf string) *netnstest.Proc {
	t.Helper()
	path := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return ns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", path,
		"-p", filepath.Join(dir, name+".pid"), "-r", filepath.Join(dir, name+"-vrrp.pid"))
}

func TestIntegrationKeepalivedDrivesNatswitch(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft", "go", "keepalived")
	bin := buildNatswitch(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "natswitch.log")

	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	tp.Bridge("svc")
	node := tp.Host("node")
	peer := tp.Host("peer")
	tp.Connect(node, "eth0", "lan", "192.168.0.12/24")
	tp.Connect(node, "eth1", "svc", "172.16.0.2/24")
	tp.Connect(peer, "eth0", "lan", "192.168.0.11/24")
	tp.Connect(peer, "eth1", "svc", "172.16.0.1/24")

	notify := fmt.Sprintf("%s -interface eth1 -vip 192.168.0.100 -lock %s -log %s",
		bin, filepath.Join(dir, "natswitch.lock"), logFile)
	ruleset := func() string { return node.Run(t, "nft", "list", "ruleset") }
	hasRule := func() bool { return strings.Contains(ruleset(), ruleLine) }
	logHas := func(s string) func() bool {
		return func() bool {
			b, _ := os.ReadFile(logFile)
			return strings.Contains(string(b), s)
		}
	}

	// Alone, the node goes BACKUP (rule added), then MASTER (rule removed).
	ka := startKeepalived(t, node, dir, "node", keepalivedConf("node", 100, notify))
	ka.WaitOutput(t, "Entering MASTER STATE", 30*time.Second)
	netnstest.WaitFor(t, "natswitch to run for MASTER", 20*time.Second, logHas("INSTANCE VI_1 MASTER 100: rule absent"))
	if !logHas("INSTANCE VI_1 BACKUP 100: rule present")() {
		t.Errorf("natswitch was not run for the initial BACKUP state; log:\n%s", readFile(logFile))
	}
	if diff := cmp.Diff(rulesetWith(), ruleset()); diff != "" {
		t.Errorf("as MASTER (-want +got):\n%s", diff)
	}

	// A peer with a higher priority appears: the node becomes BACKUP.
	pk := startKeepalived(t, peer, dir, "peer", keepalivedConf("peer", 200, ""))
	pk.WaitOutput(t, "Entering MASTER STATE", 30*time.Second)
	netnstest.WaitFor(t, "the DNAT rule on the node after the peer took over", 20*time.Second, hasRule)
	if diff := cmp.Diff(rulesetWith(ruleLine), ruleset()); diff != "" {
		t.Errorf("as BACKUP (-want +got):\n%s", diff)
	}

	// The peer disappears (its priority-0 advert): the node is MASTER again.
	if err := pk.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := pk.Wait(15 * time.Second); err != nil {
		t.Logf("peer keepalived exit: %v", err)
	}
	netnstest.WaitFor(t, "the DNAT rule gone after the peer left", 20*time.Second, func() bool { return !hasRule() })
	if diff := cmp.Diff(rulesetWith(), ruleset()); diff != "" {
		t.Errorf("as MASTER again (-want +got):\n%s", diff)
	}

	log := readFile(logFile)
	if n := strings.Count(log, "MASTER 100: rule absent"); n != 2 {
		t.Errorf("natswitch ran %d times for MASTER, want 2; log:\n%s", n, log)
	}
	if n := strings.Count(log, "BACKUP 100: rule present"); n != 2 {
		t.Errorf("natswitch ran %d times for BACKUP, want 2; log:\n%s", n, log)
	}
	for _, refusal := range []string{"SECURITY VIOLATION", "unsafe", "Disabling notify", "not executable", "cannot be executed"} {
		if out := ka.Output(); strings.Contains(out, refusal) {
			t.Errorf("keepalived refused or warned about the notify program (%q):\n%s", refusal, out)
		}
	}
	var scriptLines []string
	for _, l := range strings.Split(ka.Output(), "\n") {
		if strings.Contains(strings.ToLower(l), "script") || strings.Contains(strings.ToLower(l), "notify") {
			scriptLines = append(scriptLines, l)
		}
	}
	t.Logf("keepalived on scripts:\n%s", strings.Join(scriptLines, "\n"))
	t.Logf("natswitch log:\n%s", log)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
