package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/smtpsink"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// smtpVMConf is the keepalived.conf of TestVMSMTPAlertsMatchKeepalived:
// one virtual server whose real server 10.0.0.21:80 is TCP-checked every
// second, every alert on, mailing through 10.0.0.3.
func smtpVMConf(routerID string) string {
	return fmt.Sprintf(`global_defs {
  router_id %[1]s
  notification_email {
    ops@example.com
    noc@example.com
  }
  notification_email_from lb@example.com
  smtp_server 10.0.0.3
  smtp_connect_timeout 5
  smtp_helo_name %[1]s.example.com
  smtp_alert
}
virtual_server 10.0.0.5 80 {
  protocol TCP
  lb_algo rr
  lb_kind DR
  delay_loop 1
  real_server 10.0.0.21 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`, routerID)
}

// TestVMSMTPAlertsMatchKeepalived runs keepalived's checker (lb2) and
// lbnode (lb1) on the same keepalived.conf, in namespaces of their own on
// one bridge with the real server and an SMTP sink. The real server stops
// listening, then listens again: each daemon mails the real server down
// and the quorum lost, then the real server up and the quorum gained. The
// mails of both daemons are the same but for the router_id and the HELO
// name.
func TestVMSMTPAlertsMatchKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "env")
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	lb1, lb2, web, mail := tp.Host("lb1"), tp.Host("lb2"), tp.Host("web"), tp.Host("mail")
	tp.Connect(lb1, "eth0", "lan", "10.0.0.11/24")
	tp.Connect(lb2, "eth0", "lan", "10.0.0.12/24")
	tp.Connect(web, "eth0", "lan", "10.0.0.21/24")
	tp.Connect(mail, "eth0", "lan", "10.0.0.3/24")
	sink := smtpsink.New(t, listenIn(t, mail, "10.0.0.3:25"))
	serve := func() net.Listener { return closingServer(t, web, "10.0.0.21:80") }
	rs := serve()
	t.Cleanup(func() { rs.Close() })

	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lb1.Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", write("lb1.conf", smtpVMConf("lb1")))
	ka := lb2.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", write("lb2.conf", smtpVMConf("lb2")),
		"-p", filepath.Join(dir, "ka.pid"), "-c", filepath.Join(dir, "ka-check.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	for _, ns := range []*netnstest.NS{lb1, lb2} {
		netnstest.WaitFor(t, "the real server in "+ns.Name+"'s IPVS table", 20*time.Second, func() bool {
			return strings.Contains(ns.Run(t, "ipvsadm", "-Ln"), "10.0.0.21:80")
		})
	}
	// Some rounds of checks that pass.
	time.Sleep(3 * time.Second)

	has := func(node, subject string) bool {
		for _, m := range sink.Messages() {
			if m.Header["Subject"] == "["+node+"] "+subject {
				return true
			}
		}
		return false
	}
	const rsSubject, vsSubject = "Realserver [10.0.0.21]:tcp:80 of virtual server [10.0.0.5]:tcp:80 - ", "Virtualserver [10.0.0.5]:tcp:80 - "
	rs.Close()
	for _, node := range []string{"lb1", "lb2"} {
		netnstest.WaitFor(t, node+"'s mails of the real server down and the quorum lost", 30*time.Second, func() bool {
			return has(node, rsSubject+"DOWN") && has(node, vsSubject+"DOWN")
		})
	}
	rs = serve()
	for _, node := range []string{"lb1", "lb2"} {
		netnstest.WaitFor(t, node+"'s mails of the real server up and the quorum gained", 30*time.Second, func() bool {
			return has(node, rsSubject+"UP") && has(node, vsSubject+"UP")
		})
	}
	// Let any later alert arrive before comparing.
	time.Sleep(2 * time.Second)

	// mails lists a daemon's messages, as both should send them: the
	// router_id and the HELO name replaced by NODE, the envelope and the
	// headers keepalived sets, sorted (keepalived mails the quorum
	// before the real server, lbnode after).
	mails := func(node string) []string {
		var out []string
		for _, m := range sink.Messages() {
			if !strings.HasPrefix(m.Header["Subject"], "["+node+"] ") {
				continue
			}
			_, hello, _ := strings.Cut(m.Hello, " ")
			s := fmt.Sprintf("%s | %s | %q | %s | %s | %s | %q", hello, m.MailFrom, m.RcptTo, m.Header["From"], m.Header["To"], m.Header["Subject"], m.Body)
			out = append(out, strings.ReplaceAll(strings.ReplaceAll(s, "["+node+"]", "[NODE]"), node+".example.com", "NODE.example.com"))
		}
		slices.Sort(out)
		return out
	}
	lbnode, keepalived := mails("lb1"), mails("lb2")
	if diff := cmp.Diff(keepalived, lbnode); diff != "" {
		t.Errorf("alerts of keepalived (-) and lbnode (+) differ:\n%s", diff)
	}
	for _, m := range lbnode {
		t.Logf("lbnode: %s", m)
	}
	for _, m := range keepalived {
		t.Logf("keepalived: %s", m)
	}
}
