package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/smtpsink"
	"github.com/lvskit/lvskit/vrrp"
)

// smtpAlertConf is the keepalived.conf of the alert test: an instance
// with smtp_alert that tracks a script failing (weight 0: FAULT) while
// flag exists, mailing through 172.16.0.3; with group, the instance is
// the member of a sync group G1 with smtp_alert.
func smtpAlertConf(routerID string, prio int, flag string, group bool) string {
	g := ""
	if group {
		g = "vrrp_sync_group G1 {\n  group {\n    VI_1\n  }\n  smtp_alert\n}\n"
	}
	return g + fmt.Sprintf(`global_defs {
  router_id %s
  enable_script_security
  script_user root
  notification_email {
    ops@example.com
    noc@example.com
  }
  notification_email_from lb@example.com
  smtp_server 172.16.0.3
  smtp_connect_timeout 5
  smtp_helo_name %s.example.com
}
vrrp_script chk {
  script "/usr/bin/test ! -e %s"
  interval 1
  weight 0
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 51
  priority %d
  advert_int 1
  virtual_ipaddress {
    192.168.0.100/24 dev eth1
  }
  track_script {
    chk
  }
  smtp_alert
}
`, routerID, routerID, flag, prio)
}

// startMailingAgent runs an agent for the keepalived.conf at path with
// its VRRP sockets, addresses and SMTP connections in ns; the returned
// stop ends it and waits for it (also done at the end of the test).
func startMailingAgent(t *testing.T, ns *netnstest.NS, path string) (stop func()) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sysctls = nil
	a, err := New(cfg, &Options{Env: Env{
		OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
			o := *opts
			o.NetNS = int(ns.Handle())
			return vrrp.Open(cfgs, &o)
		},
		DialSMTP: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = ns.Do(func() error {
				var d net.Dialer
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
		if st := a.MailStats(); st.Failed != 0 || st.Dropped != 0 {
			t.Errorf("lbnode's mail stats %+v: some alerts were not delivered", st)
		}
	}
	t.Cleanup(stop)
	return stop
}

// lbnode (lb1) and keepalived 2.2.7 (lb2) read the same keepalived.conf
// with smtp_alert on their instance (and, in the second run, on the sync
// group of the instance) and smtp_server pointing at an SMTP sink in a
// third namespace. Both go BACKUP at start; lbnode takes the VIP
// (MASTER); a failing script puts lbnode in FAULT and keepalived takes
// over (MASTER); then keepalived's own script fails (FAULT). The sink's
// messages for each state are the same from both daemons but for the
// router_id and the HELO name; lbnode mails "Stopping" when it stops,
// compared with keepalived's when keepalived sends one.
func TestIntegrationSMTPAlertsAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	t.Run("instance", func(t *testing.T) { testSMTPAlerts(t, false) })
	t.Run("sync group", func(t *testing.T) { testSMTPAlerts(t, true) })
}

func testSMTPAlerts(t *testing.T, group bool) {
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	lb1, lb2, mailNS := tp.Host("lb1"), tp.Host("lb2"), tp.Host("mail")
	tp.Connect(lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lb2, "eth1", "svc", "172.16.0.2/24")
	tp.Connect(mailNS, "eth1", "svc", "172.16.0.3/24")
	var ln net.Listener
	if err := mailNS.Do(func() (err error) {
		ln, err = net.Listen("tcp", "172.16.0.3:25")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sink := smtpsink.New(t, ln)

	dir := t.TempDir()
	flag1, flag2 := filepath.Join(dir, "lb1-down"), filepath.Join(dir, "lb2-down")
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const instance, groupSubject = "VRRP Instance VI_1 - ", "VRRP Group G1 - "
	stopLbnode := startMailingAgent(t, lb1, write("lb1.conf", smtpAlertConf("lb1", 150, flag1, group)))
	ka := lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", smtpAlertConf("lb2", 100, flag2, group)),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })

	// by finds the message of a daemon (lb1: lbnode, lb2: keepalived)
	// whose subject is "[NODE] what".
	by := func(node, what string) (smtpsink.Message, bool) {
		for _, m := range sink.Messages() {
			if m.Header["Subject"] == "["+node+"] "+what {
				return m, true
			}
		}
		return smtpsink.Message{}, false
	}
	waitMail := func(node, what string) {
		t.Helper()
		netnstest.WaitFor(t, node+"'s mail "+what, 20*time.Second, func() bool {
			_, ok := by(node, what)
			return ok
		})
	}
	waitMail("lb1", instance+"Entering BACKUP state")
	waitMail("lb2", instance+"Entering BACKUP state")
	waitMail("lb1", instance+"Entering MASTER state")

	if err := os.WriteFile(flag1, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitMail("lb1", instance+"Entering FAULT state")
	waitMail("lb2", instance+"Entering MASTER state")

	if err := os.WriteFile(flag2, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitMail("lb2", instance+"Entering FAULT state")
	if group {
		for _, node := range []string{"lb1", "lb2"} {
			for _, st := range []string{"BACKUP", "MASTER", "FAULT"} {
				waitMail(node, groupSubject+"Entering "+st+" state")
			}
		}
	}

	// Stopping: lbnode waits for its last alert; keepalived may exit
	// before its own leaves.
	ka.Stop(5 * time.Second)
	stopLbnode()
	waitMail("lb1", instance+"Stopping")

	// normal is a message as both daemons should send it: the router_id
	// and the HELO name replaced by NODE.
	normal := func(node string, m smtpsink.Message) string {
		fix := func(s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, "["+node+"]", "[NODE]"), node+".example.com", "NODE.example.com")
		}
		hello := m.Hello
		if _, name, ok := strings.Cut(hello, " "); ok {
			hello = name // EHLO or HELO: net/smtp tries EHLO first, keepalived says HELO
		}
		return fix(fmt.Sprintf("hello %s\nmail from %s\nrcpt to %q\nFrom: %s\nTo: %s\nSubject: %s\nbody %q",
			hello, m.MailFrom, m.RcptTo, m.Header["From"], m.Header["To"], m.Header["Subject"], m.Body))
	}
	whats := []string{instance + "Entering BACKUP state", instance + "Entering MASTER state", instance + "Entering FAULT state", instance + "Stopping"}
	if group {
		whats = append(whats, groupSubject+"Entering BACKUP state", groupSubject+"Entering MASTER state", groupSubject+"Entering FAULT state")
	}
	for _, what := range whats {
		lbn, ok1 := by("lb1", what)
		kad, ok2 := by("lb2", what)
		if !ok1 {
			t.Errorf("lbnode sent no %q mail", what)
			continue
		}
		if !ok2 {
			t.Logf("keepalived sent no %q mail (it exits without waiting for it)", what)
			continue
		}
		got, want := normal("lb1", lbn), normal("lb2", kad)
		if got != want {
			t.Errorf("%s: lbnode's mail\n%s\nkeepalived's\n%s", what, got, want)
		} else {
			t.Logf("%s: lbnode and keepalived mail alike:\n%s", what, got)
		}
	}
	for _, m := range sink.Messages() {
		t.Logf("sink: %s | %s | X-Mailer %q", m.Hello, m.Header["Subject"], m.Header["X-Mailer"])
	}
}
