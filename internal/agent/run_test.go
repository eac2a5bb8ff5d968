package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/proxyconf"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// nodeYAML is the node the Run tests start: one VRRP instance driving the
// NAT switch, two virtual servers whose real servers are checked (web1
// leaves the table when down, web2 is inhibited to weight 0, web3 has no
// checker, dns1 asks for its weight), nginx, and a sysctl.
const nodeYAML = `
global:
  router_id: lb1
vrrp_instances:
  - name: VI_1
    interface: eth1
    track_interface: [eth0]
    virtual_router_id: 1
    priority: 100
    advert_int: 1
    virtual_ipaddress:
      - 192.168.0.100/24 dev eth0
    notify_master: /etc/lvskit/on-master
    notify_backup: /etc/lvskit/on-backup
    notify_fault: /etc/lvskit/on-fault
    notify_stop: /etc/lvskit/on-stop
    notify: /etc/lvskit/notify
virtual_servers:
  - address: 192.168.0.100:80
    protocol: TCP
    lb_algo: wlc
    lb_kind: DR
    delay_loop: 6
    real_servers:
      - address: 172.16.0.1:80
        weight: 1
        checkers:
          - type: TCP_CHECK
            connect_timeout: 2
      - address: 172.16.0.2:80
        weight: 2
        inhibit_on_failure: true
        checkers:
          - type: TCP_CHECK
            connect_timeout: 2
      - address: 172.16.0.3:80
        weight: 1
  - address: 192.168.0.100:53
    protocol: UDP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 6
    real_servers:
      - address: 172.16.0.1:53
        weight: 1
        checkers:
          - type: MISC_CHECK
            misc_path: /usr/local/bin/check-dns
            misc_dynamic: true
nat:
  vrrp_instance: VI_1
  interface: eth1
  vips: [192.168.0.100]
  local_address: 172.16.0.1
nginx:
  prefix: /nonexistent/lvskit-nginx
  http:
    - name: web
      upstreams:
        - name: web
          servers:
            - 192.168.0.101:80
      servers:
        - listen:
            - 172.16.0.1:80 default_server
          locations:
            - path: /
              proxy_pass: web
sysctls:
  net.ipv4.ip_nonlocal_bind: 1
`

// The health targets of nodeYAML.
const (
	web1 = "TCP 192.168.0.100:80 -> 172.16.0.1:80"
	web2 = "TCP 192.168.0.100:80 -> 172.16.0.2:80"
	dns1 = "UDP 192.168.0.100:53 -> 172.16.0.1:53"
)

// The IPVS rules of nodeYAML with every real server up, sorted.
const allRules = `-A -t 192.168.0.100:80 -s wlc
-A -u 192.168.0.100:53 -s rr
-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 2
-a -t 192.168.0.100:80 -r 172.16.0.3:80 -g -w 1
-a -u 192.168.0.100:53 -r 172.16.0.1:53 -g -w 1
`

func parseNode(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.ParseYAML("node.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// edit returns nodeYAML with each old replaced by its new, once each.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := nodeYAML
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("nodeYAML has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// fakeNAT records the NAT switch's calls.
type fakeNAT struct {
	mu        sync.Mutex
	cfg       *nat.Config
	calls     []string
	backupErr error
}

func (f *fakeNAT) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeNAT) Master() error  { f.record("master"); return nil }
func (f *fakeNAT) Undrain() error { f.record("undrain"); return nil }
func (f *fakeNAT) Drain(ports []nat.Port) error {
	f.record(fmt.Sprintf("drain %v", ports))
	return nil
}
func (f *fakeNAT) Close() error { f.record("close"); return nil }
func (f *fakeNAT) Backup() error {
	f.record("backup")
	return f.backupErr
}

func (f *fakeNAT) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeNginx records what the agent asks of nginx.
type fakeNginx struct {
	mu        sync.Mutex
	prefix    string
	applied   []string // rendered main files
	stopped   int
	stoppedAt time.Time
	applyErr  error
}

func (f *fakeNginx) StreamModule(context.Context) (string, error) {
	return "modules/ngx_stream_module.so", nil
}

func (f *fakeNginx) Apply(_ context.Context, pc *proxyconf.Config) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applyErr != nil {
		return false, f.applyErr
	}
	files, err := pc.Render()
	if err != nil {
		return false, err
	}
	var all []string
	for _, f := range files {
		all = append(all, f.Path+":\n"+string(f.Data))
	}
	s := strings.Join(all, "\n")
	if len(f.applied) > 0 && f.applied[len(f.applied)-1] == s {
		return false, nil
	}
	f.applied = append(f.applied, s)
	return true, nil
}

func (f *fakeNginx) Stop(time.Duration) error {
	f.mu.Lock()
	f.stopped++
	f.stoppedAt = time.Now()
	f.mu.Unlock()
	return nil
}

func (f *fakeNginx) state() (applied []string, stopped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied), f.stopped
}

// fakeNotifier records the notify programs queued, in order.
type fakeNotifier struct {
	mu     sync.Mutex
	cmds   []string
	closed bool
	cred   *syscall.Credential
}

func (f *fakeNotifier) EnqueueAll(cmds [][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	for _, c := range cmds {
		f.cmds = append(f.cmds, strings.Join(c, " "))
	}
}

func (f *fakeNotifier) Close(time.Duration) {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

// take returns the commands queued since the last take.
func (f *fakeNotifier) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.cmds
	f.cmds = nil
	return out
}

// fakeChecks answers every health check from a table set by the test:
// up, unless told otherwise.
type fakeChecks struct {
	mu     sync.Mutex
	res    map[string]healthcheck.Result
	mapped map[string]healthcheck.Checker
	runs   map[string]int
}

func (f *fakeChecks) set(target string, r healthcheck.Result) {
	f.mu.Lock()
	f.res[target] = r
	f.mu.Unlock()
}

func (f *fakeChecks) runCount(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[target]
}

func (f *fakeChecks) checker(target string, mapped healthcheck.Checker) healthcheck.Checker {
	f.mu.Lock()
	f.mapped[target] = mapped
	f.mu.Unlock()
	return healthcheck.CheckerFunc(func(context.Context) healthcheck.Result {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.runs[target]++
		if r, ok := f.res[target]; ok {
			return r
		}
		return healthcheck.Result{Up: true, Reason: "fake up"}
	})
}

// testNode is an agent running on fakes: VRRP on a vrrptest bus and host,
// IPVS in an ipvstest kernel, and recording NAT switch, nginx and notify
// runner. It must be started inside a synctest bubble.
type testNode struct {
	t       *testing.T
	kernel  *ipvstest.Kernel
	admin   *ipvs.Client // another client of the same kernel: "behind the agent's back"
	bus     *vrrptest.Bus
	host    *vrrptest.Host
	nat     *fakeNAT
	nginx   *fakeNginx
	notify  *fakeNotifier
	checks  *fakeChecks
	procSys string
	opts    Options
	a       *Agent
	cancel  context.CancelFunc
	done    chan error

	mu     sync.Mutex
	trans  []vrrp.Transition
	events []healthcheck.Event
}

var nodeAddr = netip.MustParseAddr("172.16.0.1")

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	n := &testNode{
		t:      t,
		kernel: ipvstest.New(),
		bus:    vrrptest.NewBus(),
		host:   vrrptest.NewHost(nodeAddr),
		nat:    &fakeNAT{},
		nginx:  &fakeNginx{},
		notify: &fakeNotifier{},
		checks: &fakeChecks{res: map[string]healthcheck.Result{}, mapped: map[string]healthcheck.Checker{}, runs: map[string]int{}},
		done:   make(chan error, 1),
	}
	admin, err := ipvs.New(n.kernel.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n.admin = admin
	t.Cleanup(func() { admin.Close() })
	n.procSys = t.TempDir()
	n.writeSysctl("net.ipv4.ip_nonlocal_bind", "0\n")
	n.opts = Options{
		ProcSys: n.procSys,
		OnTransition: func(tr vrrp.Transition) {
			n.mu.Lock()
			n.trans = append(n.trans, tr)
			n.mu.Unlock()
		},
		OnHealth: func(ev healthcheck.Event) {
			n.mu.Lock()
			n.events = append(n.events, ev)
			n.mu.Unlock()
		},
		Env: Env{
			OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
				return vrrp.New(cfgs, n.bus.Port(nodeAddr), n.host, opts)
			},
			DialIPVS: func() (*ipvs.Client, error) { return ipvs.New(n.kernel.Conn(), nil) },
			OpenNAT: func(cfg *nat.Config) (NATSwitch, error) {
				n.nat.mu.Lock()
				n.nat.cfg = cfg
				n.nat.mu.Unlock()
				return n.nat, nil
			},
			Nginx: func(prefix string) Nginx {
				n.nginx.prefix = prefix
				return n.nginx
			},
			Notify: func(_ time.Duration, _ *slog.Logger, cred *syscall.Credential) Notifier {
				n.notify.cred = cred
				return n.notify
			},
			Checker: n.checks.checker,
		},
	}
	return n
}

func (n *testNode) writeSysctl(key, val string) {
	p := filepath.Join(n.procSys, strings.ReplaceAll(key, ".", "/"))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(val), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// start creates the agent for src and runs it until stop.
func (n *testNode) start(src string) {
	n.t.Helper()
	n.run(parseNode(n.t, src))
}

// run creates the agent for cfg and runs it until stop.
func (n *testNode) run(cfg *config.Config) {
	n.t.Helper()
	a, err := New(cfg, &n.opts)
	if err != nil {
		n.t.Fatal(err)
	}
	n.a = a
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- a.Run(ctx) }()
	n.t.Cleanup(func() {
		cancel()
		<-n.done
		n.done <- nil
	})
	synctest.Wait()
}

// stop cancels Run and returns its error.
func (n *testNode) stop() error {
	n.cancel()
	err := <-n.done
	n.done <- err
	return err
}

// sleep lets d pass in the bubble and everything settle.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// rules returns the kernel's IPVS table as sorted ipvsadm -S lines.
func (n *testNode) rules() string {
	n.t.Helper()
	tb, err := n.admin.Table()
	if err != nil {
		n.t.Fatal(err)
	}
	var b strings.Builder
	if err := ipvs.WriteRules(&b, tb); err != nil {
		n.t.Fatal(err)
	}
	lines := strings.SplitAfter(b.String(), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

func (n *testNode) wantRules(when, want string) {
	n.t.Helper()
	if diff := cmp.Diff(want, n.rules()); diff != "" {
		n.t.Errorf("%s: kernel IPVS rules (-want +got):\n%s", when, diff)
	}
}

func (n *testNode) transitions() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, tr := range n.trans {
		out = append(out, tr.Instance+" "+tr.From.String()+">"+tr.To.String())
	}
	return out
}

func (n *testNode) state() vrrp.State { return n.a.States()["VI_1"] }

// The node comes up BACKUP with the NAT rule in place and the virtual
// servers applied, becomes MASTER when no peer advertises (the rule
// removed, notify programs queued), goes to FAULT when a tracked
// interface fails (rule back), and MASTER again when it returns.
func TestRunVRRPDrivesNATAndNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		n.start(nodeYAML)

		if got := n.state(); got != vrrp.StateBackup {
			t.Fatalf("state at start %v, want BACKUP", got)
		}
		// Installed at start, and again (no change) on entering BACKUP.
		if got := n.nat.Calls(); !cmp.Equal(got, []string{"backup", "backup"}) {
			t.Errorf("NAT calls at start %q, want the rule installed", got)
		}
		if cfg := n.nat.cfg; cfg.Interface != "eth1" || cfg.LocalIPv4 != nodeAddr || !slices.Equal(cfg.VIPs, []netip.Addr{netip.MustParseAddr("192.168.0.100")}) {
			t.Errorf("NAT config %+v", cfg)
		}
		n.wantRules("at start", allRules)
		if b, err := os.ReadFile(filepath.Join(n.procSys, "net/ipv4/ip_nonlocal_bind")); err != nil || string(b) != "1\n" {
			t.Errorf("sysctl ip_nonlocal_bind = %q, %v; want 1", b, err)
		}
		if got := n.notify.take(); !cmp.Equal(got, []string{"/etc/lvskit/on-backup", "/etc/lvskit/notify INSTANCE VI_1 BACKUP 100"}) {
			t.Errorf("notify at start %q", got)
		}
		if n.host.HasVIP("eth0") {
			t.Error("VIP present while BACKUP")
		}

		// No peer: MASTER after the master-down interval (3.6 s).
		sleep(4 * time.Second)
		if got := n.state(); got != vrrp.StateMaster {
			t.Fatalf("state %v after 4 s alone, want MASTER", got)
		}
		if got := n.nat.Calls(); !cmp.Equal(got, []string{"backup", "backup", "master"}) {
			t.Errorf("NAT calls as MASTER %q, want the rule removed", got)
		}
		if got := n.notify.take(); !cmp.Equal(got, []string{"/etc/lvskit/on-master", "/etc/lvskit/notify INSTANCE VI_1 MASTER 100"}) {
			t.Errorf("notify as MASTER %q", got)
		}
		if !slices.Equal(n.host.VIPs("eth0"), []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}) {
			t.Errorf("VIPs as MASTER %v", n.host.VIPs("eth0"))
		}
		st := n.a.VRRPStats()
		if len(st.Instances) != 1 || st.Instances[0].Instance != "VI_1" || st.Instances[0].State != vrrp.StateMaster || st.Instances[0].AdvertsSent == 0 {
			t.Errorf("VRRPStats %+v, want VI_1 MASTER sending adverts", st.Instances)
		}

		// A tracked interface fails: FAULT, the rule back.
		n.host.SetLink("eth0", false)
		synctest.Wait()
		if got := n.state(); got != vrrp.StateFault {
			t.Fatalf("state %v with eth0 down, want FAULT", got)
		}
		if got := n.nat.Calls(); !cmp.Equal(got, []string{"backup", "backup", "master", "backup"}) {
			t.Errorf("NAT calls in FAULT %q, want the rule back", got)
		}
		if got := n.notify.take(); !cmp.Equal(got, []string{"/etc/lvskit/on-fault", "/etc/lvskit/notify INSTANCE VI_1 FAULT 100"}) {
			t.Errorf("notify in FAULT %q", got)
		}
		if n.host.HasVIP("eth0") {
			t.Error("VIP kept in FAULT")
		}
		// IPVS is not VRRP's business: the table stays.
		n.wantRules("in FAULT", allRules)

		n.host.SetLink("eth0", true)
		sleep(4 * time.Second)
		if got := n.state(); got != vrrp.StateMaster {
			t.Fatalf("state %v after eth0 came back, want MASTER", got)
		}
		want := []string{"VI_1 INIT>BACKUP", "VI_1 BACKUP>MASTER", "VI_1 MASTER>FAULT", "VI_1 FAULT>BACKUP", "VI_1 BACKUP>MASTER"}
		if got := n.transitions(); !cmp.Equal(got, want) {
			t.Errorf("transitions %q, want %q", got, want)
		}
		if got := n.nat.Calls(); !cmp.Equal(got, []string{"backup", "backup", "master", "backup", "backup", "master"}) {
			t.Errorf("NAT calls %q", got)
		}
	})
}

// Health results set the weights: web1 (no inhibit_on_failure) leaves the
// table when down, web2 (inhibit_on_failure) gets weight 0, both come
// back with their configured weights, and a misc_dynamic check's weight is
// applied.
func TestRunHealthDrivesWeights(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		n.start(nodeYAML)

		// The checkers the configuration maps to reach Env.Checker.
		n.checks.mu.Lock()
		tcp, _ := n.checks.mapped[web1].(*healthcheck.TCP)
		misc, _ := n.checks.mapped[dns1].(*healthcheck.Exec)
		n.checks.mu.Unlock()
		if tcp == nil || tcp.Addr != netip.MustParseAddrPort("172.16.0.1:80") || tcp.Timeout != 2*time.Second {
			t.Errorf("web1's mapped checker %#v", tcp)
		}
		if misc == nil || !misc.Dynamic || !slices.Equal(misc.Argv, []string{"/usr/local/bin/check-dns"}) {
			t.Errorf("dns1's mapped checker %#v", misc)
		}

		// The first round (within one delay loop): all up.
		sleep(7 * time.Second)
		for _, h := range n.a.Health() {
			if !h.Known || !h.Up || h.Transitions != 0 {
				t.Errorf("after the first round: %+v, want known, up, no transitions", h)
			}
		}
		n.wantRules("all up", allRules)

		down := healthcheck.Result{Up: false, Reason: "connection refused"}
		n.checks.set(web1, down)
		n.checks.set(web2, down)
		// A round, its retry a second later and the retry's timeout.
		sleep(10 * time.Second)
		n.wantRules("web1 and web2 down", `-A -t 192.168.0.100:80 -s wlc
-A -u 192.168.0.100:53 -s rr
-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 0
-a -t 192.168.0.100:80 -r 172.16.0.3:80 -g -w 1
-a -u 192.168.0.100:53 -r 172.16.0.1:53 -g -w 1
`)
		for _, h := range n.a.Health() {
			wantUp := h.Name != web1 && h.Name != web2
			if h.Up != wantUp {
				t.Errorf("%s: up %v, want %v", h.Name, h.Up, wantUp)
			}
		}
		if d := n.a.DesiredIPVS(); len(d.Services[0].Destinations) != 2 {
			t.Errorf("desired table %+v: want web1 out", d.Services[0])
		}

		n.checks.set(web1, healthcheck.Result{Up: true})
		n.checks.set(web2, healthcheck.Result{Up: true})
		n.checks.set(dns1, healthcheck.Result{Up: true, Weight: 5, HasWeight: true})
		sleep(7 * time.Second)
		n.wantRules("back up, dns1 asking for 5", strings.Replace(allRules, "-r 172.16.0.1:53 -g -w 1", "-r 172.16.0.1:53 -g -w 5", 1))
		for _, h := range n.a.Health() {
			want := uint64(0)
			if h.Name == web1 || h.Name == web2 {
				want = 2
			}
			if !h.Up || h.Transitions != want {
				t.Errorf("%+v: want up with %d transitions", h, want)
			}
		}
		if n.a.Repairs() != 0 {
			t.Errorf("%d repairs: health changes are not repairs", n.a.Repairs())
		}
	})
}

// An entry deleted or changed behind the node's back is restored by the
// next delay loop and counted as a repair.
func TestRunDelayLoopRepairsDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		n.start(nodeYAML)
		sleep(7 * time.Second) // past the first round of checks

		svc := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80}
		if err := n.admin.DeleteDestination(svc, ipvs.Destination{Address: netip.MustParseAddr("172.16.0.3"), Port: 80}); err != nil {
			t.Fatal(err)
		}
		dns := ipvs.Service{Protocol: ipvs.UDP, Address: netip.MustParseAddr("192.168.0.100"), Port: 53}
		if err := n.admin.UpdateDestination(dns, ipvs.Destination{Address: netip.MustParseAddr("172.16.0.1"), Port: 53, Forward: ipvs.Route, Weight: 9}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := n.rules(); got == allRules {
			t.Fatal("the changes behind the agent's back did not reach the fake kernel")
		}
		if n.a.Repairs() != 0 {
			t.Fatalf("%d repairs before any drift", n.a.Repairs())
		}
		// The comparison runs at least once per delay loop.
		sleep(6 * time.Second)
		n.wantRules("after a delay loop", allRules)
		if got := n.a.Repairs(); got != 2 {
			t.Errorf("%d repairs, want 2 (one add, one update)", got)
		}

		// A whole virtual server removed comes back too.
		if err := n.admin.DeleteService(dns); err != nil {
			t.Fatal(err)
		}
		sleep(6 * time.Second)
		n.wantRules("after the service was deleted", allRules)
		if got := n.a.Repairs(); got != 4 {
			t.Errorf("%d repairs, want 4 (and a service with its destination)", got)
		}
		tb, err := n.a.IPVSTable()
		if err != nil || len(tb.Services) != 2 {
			t.Errorf("IPVSTable: %v, %v", tb, err)
		}
	})
}

// A reload applies what changed in place: a weight, a real server added
// with its check, a VRRP priority; the instance keeps its state.
func TestRunReloadAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		n.start(nodeYAML)
		sleep(7 * time.Second)
		if n.state() != vrrp.StateMaster {
			t.Fatalf("state %v, want MASTER", n.state())
		}
		before := n.transitions()
		applied, _ := n.nginx.state()

		next := edit(t,
			"        weight: 2\n", "        weight: 4\n",
			"      - address: 172.16.0.3:80\n", `      - address: 172.16.0.4:80
        weight: 3
        checkers:
          - type: TCP_CHECK
            connect_timeout: 2
      - address: 172.16.0.3:80
`,
			"    priority: 100\n", "    priority: 110\n",
			"            connect_timeout: 2\n", "            connect_timeout: 3\n            connect_port: 8080\n", // web1's
			"            - 192.168.0.101:80\n", "            - 192.168.0.101:80\n            - 192.168.0.102:80\n",
		)
		if err := n.a.Reload(context.Background(), parseNode(t, next)); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		synctest.Wait()
		want := strings.Replace(allRules, "-r 172.16.0.2:80 -g -w 2", "-r 172.16.0.2:80 -g -w 4", 1)
		want = strings.Replace(want, "-a -t 192.168.0.100:80 -r 172.16.0.3:80", "-a -t 192.168.0.100:80 -r 172.16.0.4:80 -g -w 3\n-a -t 192.168.0.100:80 -r 172.16.0.3:80", 1)
		// sorted: .3 before .4
		want = strings.Replace(want, "-a -t 192.168.0.100:80 -r 172.16.0.4:80 -g -w 3\n-a -t 192.168.0.100:80 -r 172.16.0.3:80 -g -w 1\n", "-a -t 192.168.0.100:80 -r 172.16.0.3:80 -g -w 1\n-a -t 192.168.0.100:80 -r 172.16.0.4:80 -g -w 3\n", 1)
		n.wantRules("after the reload", want)
		if got := n.transitions(); !cmp.Equal(got, before) {
			t.Errorf("transitions after the reload %q, want none beyond %q", got, before)
		}
		sleep(1500 * time.Millisecond) // an advert
		if sent := n.bus.Sent(nodeAddr); sent[len(sent)-1].Priority != 110 {
			t.Errorf("advert priority %d after the reload, want 110", sent[len(sent)-1].Priority)
		}
		now, _ := n.nginx.state()
		if len(now) != len(applied)+1 || !strings.Contains(now[len(now)-1], "192.168.0.102:80") {
			t.Errorf("nginx: %d configurations applied (before %d); last:\n%s", len(now), len(applied), now[len(now)-1])
		}

		// web1's check changed: it runs the new settings.
		n.checks.mu.Lock()
		tcp, _ := n.checks.mapped[web1].(*healthcheck.TCP)
		n.checks.mu.Unlock()
		if tcp == nil || tcp.Addr != netip.MustParseAddrPort("172.16.0.1:8080") || tcp.Timeout != 3*time.Second {
			t.Errorf("web1's checker after the reload: %#v, want port 8080 and 3 s", tcp)
		}

		// The new real server is checked: down, it leaves the table.
		web4 := "TCP 192.168.0.100:80 -> 172.16.0.4:80"
		if !slices.ContainsFunc(n.a.Health(), func(h TargetStatus) bool { return h.Name == web4 }) {
			t.Fatalf("no health target %s after the reload: %+v", web4, n.a.Health())
		}
		n.checks.set(web4, healthcheck.Result{Up: false})
		sleep(10 * time.Second)
		if strings.Contains(n.rules(), "172.16.0.4:80") {
			t.Errorf("web4 down but still in the table:\n%s", n.rules())
		}

		// Reloading the first file again removes web4 and its target.
		if err := n.a.Reload(context.Background(), parseNode(t, nodeYAML)); err != nil {
			t.Fatalf("Reload back: %v", err)
		}
		n.wantRules("after reloading the first file", allRules)
		if slices.ContainsFunc(n.a.Health(), func(h TargetStatus) bool { return h.Name == web4 }) {
			t.Errorf("health target %s kept after its real server went", web4)
		}
		runs := n.checks.runCount(web4)
		sleep(7 * time.Second)
		if got := n.checks.runCount(web4); got != runs {
			t.Errorf("web4 checked %d more times after it went", got-runs)
		}

		// A virtual server gone from the file leaves the kernel, and its
		// real servers' checks stop.
		const dnsServer = `  - address: 192.168.0.100:53
    protocol: UDP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 6
    real_servers:
      - address: 172.16.0.1:53
        weight: 1
        checkers:
          - type: MISC_CHECK
            misc_path: /usr/local/bin/check-dns
            misc_dynamic: true
`
		if err := n.a.Reload(context.Background(), parseNode(t, edit(t, dnsServer, ""))); err != nil {
			t.Fatalf("Reload without the DNS server: %v", err)
		}
		n.wantRules("after the DNS server went", `-A -t 192.168.0.100:80 -s wlc
-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 2
-a -t 192.168.0.100:80 -r 172.16.0.3:80 -g -w 1
`)
		runs = n.checks.runCount(dns1)
		sleep(7 * time.Second)
		if got := n.checks.runCount(dns1); got != runs {
			t.Errorf("dns1 checked %d more times after its virtual server went", got-runs)
		}
		if n.state() != vrrp.StateMaster {
			t.Errorf("state %v after the reloads, want MASTER kept", n.state())
		}
	})
}

// A reload that needs a restart is refused before anything is applied:
// the old configuration keeps running, weights included.
func TestRunReloadRefused(t *testing.T) {
	const weight = "        weight: 2\n"
	for _, tc := range []struct {
		name  string
		pairs []string
		mod   func(*config.Config)
		want  string
	}{
		{"instance renamed", []string{"  - name: VI_1\n", "  - name: VI_2\n", "vrrp_instance: VI_1", "vrrp_instance: VI_2"}, nil, "instance VI_1 removed or moved"},
		{"vrid changed", []string{"virtual_router_id: 1\n", "virtual_router_id: 2\n"}, nil, "instance VI_1: "},
		{"interface changed", []string{"    interface: eth1\n    track", "    interface: eth2\n    track"}, nil, "new interface eth2"},
		{"nat changed", []string{"local_address: 172.16.0.1", "local_address: 172.16.0.9"}, nil, "the NAT switch changed"},
		{"nginx moved", []string{"prefix: /nonexistent/lvskit-nginx", "prefix: /nonexistent/elsewhere"}, nil, "nginx was added, removed or moved"},
		{"script user changed", nil, func(c *config.Config) {
			c.Global.Script = config.ScriptIdentity{User: "nobody", Group: "nogroup", UID: 65534, GID: 65534}
		}, "script user changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newTestNode(t)
				n.start(nodeYAML)
				sleep(7 * time.Second)
				before := n.transitions()

				// Every refused file also changes a weight, which must not
				// reach the kernel.
				next := parseNode(t, edit(t, append(tc.pairs, weight, "        weight: 5\n")...))
				if tc.mod != nil {
					tc.mod(next)
				}
				err := n.a.Reload(context.Background(), next)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "restart") {
					t.Fatalf("Reload = %v, want a refusal naming %q and asking for a restart", err, tc.want)
				}
				sleep(7 * time.Second) // a delay loop on the old configuration
				n.wantRules("after the refused reload", allRules)
				if got := n.transitions(); !cmp.Equal(got, before) {
					t.Errorf("transitions %q, want %q", got, before)
				}
				if n.state() != vrrp.StateMaster {
					t.Errorf("state %v, want MASTER kept", n.state())
				}
				// Health still acts on the old configuration.
				n.checks.set(web2, healthcheck.Result{Up: false})
				sleep(10 * time.Second)
				n.wantRules("web2 down after the refused reload", strings.Replace(allRules, "-r 172.16.0.2:80 -g -w 2", "-r 172.16.0.2:80 -g -w 0", 1))
			})
		})
	}
}

// At stop, VRRP goes first (the instance STOPPED, the VIP removed), then
// the NAT rule is removed, nginx stopped and the virtual servers removed,
// unless dont_release_ipvs or Options.KeepIPVS keep them.
func TestRunShutdown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src      string
		keepOpt  bool
		wantKept bool
	}{
		{"release", nodeYAML, false, false},
		{"dont_release_ipvs", edit(t, "  router_id: lb1\n", "  router_id: lb1\n  dont_release_ipvs: true\n"), false, true},
		{"Options.KeepIPVS", nodeYAML, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newTestNode(t)
				n.opts.KeepIPVS = tc.keepOpt
				n.start(tc.src)
				sleep(5 * time.Second)
				if n.state() != vrrp.StateMaster {
					t.Fatalf("state %v, want MASTER", n.state())
				}
				n.notify.take()
				if err := n.stop(); err != nil {
					t.Fatalf("Run = %v, want nil at stop", err)
				}
				if n.state() != vrrp.StateStopped {
					t.Errorf("state %v after stop, want STOPPED", n.state())
				}
				if n.host.HasVIP("eth0") {
					t.Error("VIP left after stop")
				}
				sent := n.bus.Sent(nodeAddr)
				if len(sent) == 0 || sent[len(sent)-1].Priority != 0 {
					t.Error("last advert is not priority 0")
				}
				calls := n.nat.Calls()
				if len(calls) < 2 || !cmp.Equal(calls[len(calls)-2:], []string{"master", "close"}) {
					t.Errorf("NAT calls %q, want the rule removed and the switch closed", calls)
				}
				if _, stopped := n.nginx.state(); stopped != 1 {
					t.Errorf("nginx stopped %d times, want 1", stopped)
				}
				if got := n.notify.take(); !cmp.Equal(got, []string{"/etc/lvskit/on-stop", "/etc/lvskit/notify INSTANCE VI_1 STOP 100"}) {
					t.Errorf("notify at stop %q", got)
				}
				n.notify.mu.Lock()
				closed := n.notify.closed
				n.notify.mu.Unlock()
				if !closed {
					t.Error("notify runner not closed")
				}
				if tc.wantKept {
					n.wantRules("after stop", allRules)
				} else {
					n.wantRules("after stop", "")
				}
			})
		})
	}
}

// Errors while starting are returned, with what was started undone.
func TestRunStartErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		setup func(n *testNode)
		want  string
		// whether IPVS was written (and so undone) and nginx stopped
		ipvs, nginx bool
		nat         []string // calls on the NAT switch
	}{
		{"sysctl missing", func(n *testNode) { os.RemoveAll(filepath.Join(n.procSys, "net")) }, "sysctl net.ipv4.ip_nonlocal_bind = 1: no such setting", false, false, nil},
		{"no IPVS", func(n *testNode) {
			n.opts.Env.DialIPVS = func() (*ipvs.Client, error) { return ipvs.New(ipvstest.New().WithoutIPVS().Conn(), nil) }
		}, "ipvs: ", false, false, nil},
		{"nat open", func(n *testNode) {
			n.opts.Env.OpenNAT = func(*nat.Config) (NATSwitch, error) { return nil, boom }
		}, "boom", true, false, nil},
		{"nat backup", func(n *testNode) { n.nat.backupErr = boom }, "nat: boom", true, false, []string{"backup", "close"}},
		{"nginx", func(n *testNode) { n.nginx.applyErr = boom }, "nginx: boom", true, false, []string{"backup", "master", "close"}},
		{"vrrp", func(n *testNode) {
			n.opts.Env.OpenVRRP = func([]vrrp.Config, *vrrp.Options) (*vrrp.Router, error) { return nil, boom }
		}, "boom", true, true, []string{"backup", "master", "close"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newTestNode(t)
				tc.setup(n)
				a, err := New(parseNode(t, nodeYAML), &n.opts)
				if err != nil {
					t.Fatal(err)
				}
				err = a.Run(context.Background())
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Run = %v, want an error with %q", err, tc.want)
				}
				// IPVS undone: nothing left in the kernel.
				n.wantRules("after the failed start", "")
				if tc.ipvs && n.kernel.Writes() == 0 {
					t.Error("IPVS was never written: the failure came too early to test undoing")
				}
				if calls := n.nat.Calls(); !slices.Equal(calls, tc.nat) {
					t.Errorf("NAT calls %q, want %q", calls, tc.nat)
				}
				if _, stopped := n.nginx.state(); stopped != map[bool]int{true: 1, false: 0}[tc.nginx] {
					t.Errorf("nginx stopped %d times", stopped)
				}
			})
		})
	}
}

// An instance whose VIP is IPv6 is a VRRPv3 IPv6 one, advertising to
// ff02::12 (keepalived's default, vrrp_mcast_group6 otherwise).
func TestNewIPv6Instance(t *testing.T) {
	cfg := parseNode(t, edit(t, "192.168.0.100/24 dev eth0", "2001:db8::1/64 dev eth0"))
	vcs, err := vrrpConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []vrrp.Config
	for _, v := range vcs {
		got = append(got, v...)
	}
	if len(got) != 1 || !got[0].IPv6 || got[0].Version != vrrp.Version3 || got[0].Group != netip.MustParseAddr("ff02::12") {
		t.Fatalf("VRRP configurations %+v, want one IPv6 VRRPv3 instance advertising to ff02::12", got)
	}
	if _, err := New(cfg, nil); err != nil {
		t.Errorf("New with an IPv6 VIP: %v", err)
	}
	cfg.Global.MulticastGroup6 = netip.MustParseAddr("ff02::1:12")
	if vcs, err = vrrpConfigs(cfg); err != nil || vcs[got[0].Interface][0].Group != cfg.Global.MulticastGroup6 {
		t.Errorf("with vrrp_mcast_group6 %v: %+v, %v", cfg.Global.MulticastGroup6, vcs, err)
	}
}
