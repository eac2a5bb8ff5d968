package agent

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/smtpsink"
	"github.com/lvskit/lvskit/vrrp"
)

// mailConf is a keepalived.conf that mails everything to addr.
func mailConf(addr, extraGlobal string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`global_defs {
  router_id lb1
  notification_email {
    ops@example.com
    noc@example.com
  }
  notification_email_from lb1@example.com
  smtp_server %s %s
  smtp_connect_timeout 2
  smtp_helo_name lb1.example.com
  smtp_alert
%s
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 1
  virtual_ipaddress {
    192.168.0.100
  }
}
virtual_server 192.168.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  quorum 2
  real_server 10.0.0.1 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.0.0.2 80 {
    HTTP_GET {
      url {
        path /
      }
    }
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind DR
  real_server 10.0.0.3 80 {
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}
`, host, port, extraGlobal)
}

// lockedBuffer is a log destination that goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startMailer returns a sink on the loopback, the configuration mailing
// to it and its mailer, closed at the end of the test.
func startMailer(t *testing.T, extraGlobal string) (*smtpsink.Sink, *config.Config, *mailer, *lockedBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := smtpsink.New(t, ln)
	cfg, err := config.ParseKeepalived("k.conf", []byte(mailConf(ln.Addr().String(), extraGlobal)))
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := newMailer(cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	if m == nil {
		t.Fatal("no mailer for a configuration with mail settings")
	}
	t.Cleanup(func() { m.close(5 * time.Second) })
	return sink, cfg, m, logs
}

// Each kind of alert reaches the server with keepalived 2.2.7's
// envelope, headers, subject and body.
func TestMailerSendsKeepalivedAlerts(t *testing.T) {
	sink, cfg, m, _ := startMailer(t, "")
	// VRRP: an instance's transitions and its sync group's.
	for _, to := range []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateStopped} {
		m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_1", From: vrrp.StateInit, To: to})
	}
	a := &Agent{mail: m}
	a.groupAlerts(cfg)(&cfg.SyncGroups[0], vrrp.StateMaster)
	// LVS: a real server down then up, with the quorum lost and gained.
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.lvs.setMail(m.alert)
	rs1, misc := p.targets[0].Name, p.targets[2].Name
	p.desired(map[string]targetState{})
	p.desired(map[string]targetState{rs1: {up: false}})
	p.desired(map[string]targetState{rs1: {up: true}})
	p.desired(map[string]targetState{rs1: {up: true}, misc: {up: false}})
	p.stopping() // no omega: nothing

	want := []struct{ subject, body string }{
		{"[lb1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="},
		{"[lb1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="},
		{"[lb1] VRRP Instance VI_1 - Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="},
		{"[lb1] VRRP Instance VI_1 - Stopping", "=> VRRP Instance stopping <="},
		{"[lb1] VRRP Group G1 - Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="},
		{"[lb1] Virtualserver [192.168.0.100]:tcp:80 - UP", "=> Starting with quorum up 2+0=2 <= 2 <="},
		{"[lb1] Virtualserver FWM 7 - UP", "=> Starting with quorum up 1+0=1 <= 1 <="},
		{"[lb1] Realserver [10.0.0.1]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - DOWN", "=> TCP CHECK failed on service <="},
		{"[lb1] Virtualserver [192.168.0.100]:tcp:80 - DOWN", "=> Lost quorum 2+0=2 <= 1 <="},
		{"[lb1] Realserver [10.0.0.1]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - UP", "=> TCP CHECK succeed on service <="},
		{"[lb1] Virtualserver [192.168.0.100]:tcp:80 - UP", "=> Gained quorum 2+0=2 <= 2 <="},
		{"[lb1] Realserver [10.0.0.3]:tcp:0 of virtual server FWM 7 - DOWN", "=> MISC CHECK failed on service <="},
		{"[lb1] Virtualserver FWM 7 - DOWN", "=> Lost quorum 1+0=1 <= 0 <="},
	}
	msgs := sink.Wait(t, len(want), 20*time.Second)
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(msgs), len(want), msgs)
	}
	for i, msg := range msgs {
		if msg.Hello != "EHLO lb1.example.com" || msg.MailFrom != "lb1@example.com" ||
			!cmp.Equal(msg.RcptTo, []string{"ops@example.com", "noc@example.com"}) {
			t.Errorf("message %d: envelope %q, MAIL FROM %q, RCPT TO %q; want EHLO lb1.example.com, lb1@example.com, both recipients",
				i, msg.Hello, msg.MailFrom, msg.RcptTo)
		}
		h := msg.Header
		if h["From"] != "lb1@example.com" || h["To"] != "ops@example.com, noc@example.com" || !strings.HasPrefix(h["X-Mailer"], "Keepalived") {
			t.Errorf("message %d: From %q, To %q, X-Mailer %q", i, h["From"], h["To"], h["X-Mailer"])
		}
		if _, err := time.Parse(time.RFC1123Z, h["Date"]); err != nil {
			t.Errorf("message %d: Date %q: %v", i, h["Date"], err)
		}
		if h["Subject"] != want[i].subject || msg.Body != want[i].body+"\r\n\r\n" {
			t.Errorf("message %d:\n got %q / %q\nwant %q / %q", i, h["Subject"], msg.Body, want[i].subject, want[i].body+"\r\n\r\n")
		}
	}
	m.close(10 * time.Second)
	if st := (&Agent{mail: m}).MailStats(); st.Sent != uint64(len(want)) || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v, want %d sent", st, len(want))
	}
}

// With omega, a stopping node mails its live real servers and the lost
// quorum "Shutting down", as keepalived does; a sorry server's pool that
// starts without quorum mails "Starting with quorum down", one that
// starts with it "Starting with quorum up" (mailed once the mailer is
// there).
func TestMailerShutdownAndStartAlerts(t *testing.T) {
	sink, cfg, m, _ := startMailer(t, "")
	vs := &cfg.VirtualServers[0]
	vs.Omega = true
	vs.SorryServer = &config.SorryServer{Addr: vs.RealServers[0].Addr}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Both real servers of the first pool down at start (alpha).
	for i := range p.pools[0].dests {
		p.pools[0].dests[i].alpha = true
	}
	p.desired(map[string]targetState{})
	p.lvs.setMail(m.alert) // what was due before is handed over
	p.desired(map[string]targetState{p.targets[0].Name: {up: true}, p.targets[1].Name: {up: true}})
	p.stopping()
	want := []string{
		"[lb1] Virtualserver [192.168.0.100]:tcp:80 - DOWN | => Starting with quorum down 2+0=2 <= 0 <=",
		"[lb1] Virtualserver FWM 7 - UP | => Starting with quorum up 1+0=1 <= 1 <=",
		"[lb1] Realserver [10.0.0.1]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - UP | => TCP CHECK succeed on service <=",
		"[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - UP | => CHECK succeed on service <=",
		"[lb1] Virtualserver [192.168.0.100]:tcp:80 - UP | => Gained quorum 2+0=2 <= 2 <=",
		"[lb1] Realserver [10.0.0.1]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - DOWN | => Shutting down <=",
		"[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [192.168.0.100]:tcp:80 - DOWN | => Shutting down <=",
		"[lb1] Virtualserver [192.168.0.100]:tcp:80 - DOWN | => Shutting down <=",
	}
	var got []string
	for _, msg := range sink.Wait(t, len(want), 20*time.Second) {
		got = append(got, msg.Header["Subject"]+" | "+strings.TrimSuffix(msg.Body, "\r\n\r\n"))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// keepalived mails a state once until another is mailed
// (last_email_state), and no FAULT with no_email_faults; blocks whose
// smtp_alert is off send nothing.
func TestMailerStateAlertsAsKeepalived(t *testing.T) {
	sink, cfg, m, _ := startMailer(t, "  no_email_faults")
	for _, to := range []vrrp.State{vrrp.StateBackup, vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateMaster} {
		m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_1", To: to})
	}
	m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_9", To: vrrp.StateMaster}) // not configured
	off := *cfg.Mail
	off.Alerts = map[config.Pos]bool{}
	cfgOff := *cfg
	cfgOff.Mail = &off
	m.instanceAlert(&cfgOff, vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup})
	m.alert(alertMail{"end", "end"})
	var got []string
	for _, msg := range sink.Wait(t, 3, 20*time.Second) {
		got = append(got, msg.Header["Subject"])
	}
	want := []string{"[lb1] VRRP Instance VI_1 - Entering BACKUP state", "[lb1] VRRP Instance VI_1 - Entering MASTER state", "[lb1] end"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}

// A delivery the server refuses, or a server that is not there, is
// logged with the server and the error, counted, and not tried again.
func TestMailerFailureLoggedAndCounted(t *testing.T) {
	sink, cfg, m, logs := startMailer(t, "")
	sink.RejectRcpt.Store(true)
	m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	m.close(10 * time.Second)
	st := (&Agent{mail: m}).MailStats()
	if st.Failed != 1 || st.Sent != 0 {
		t.Errorf("stats %+v, want 1 failed", st)
	}
	if l := logs.String(); !strings.Contains(l, "smtp: alert not sent") || !strings.Contains(l, "server="+sink.Addr().String()) || !strings.Contains(l, "550") {
		t.Errorf("log does not name the failure, the server and the error:\n%s", l)
	}

	// Nobody listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err = config.ParseKeepalived("k.conf", []byte(mailConf(addr, "")))
	if err != nil {
		t.Fatal(err)
	}
	logs = &lockedBuffer{}
	m = newMailer(cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	m.close(10 * time.Second)
	if st := (&Agent{mail: m}).MailStats(); st.Failed != 1 {
		t.Errorf("stats %+v, want 1 failed", st)
	}
	if l := logs.String(); !strings.Contains(l, "server="+addr) || !strings.Contains(l, "refused") {
		t.Errorf("log does not name the server and the error:\n%s", l)
	}
}

// A server that never answers holds up neither the callers (the queue is
// bounded: what does not fit is dropped and counted) nor the stop.
func TestMailerNeverBlocksTheCaller(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never greeted
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	cfg, err := config.ParseKeepalived("k.conf", []byte(mailConf(ln.Addr().String(), "")))
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := newMailer(cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	const n = 3 * mailQueueLen
	for i := range n {
		m.alert(alertMail{fmt.Sprint("alert ", i), "body"})
	}
	m.close(100 * time.Millisecond)
	st := (&Agent{mail: m}).MailStats()
	if st.Sent != 0 || st.Failed > 1 || st.Dropped < n-mailQueueLen-1 || st.Sent+st.Failed+st.Dropped != n {
		t.Errorf("stats %+v of %d alerts: want none sent, at most the first failed, the rest dropped", st, n)
	}
	if !strings.Contains(logs.String(), "alert queue full") {
		t.Errorf("the dropped alerts are not logged:\n%s", logs.String())
	}
	m.alert(alertMail{"late", "late"}) // after the stop: dropped, no panic
}

// A configuration without mail settings makes no mailer, and every alert
// is a no-op.
func TestMailerNone(t *testing.T) {
	cfg, err := config.ParseKeepalived("k.conf", []byte("vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 1\n  virtual_ipaddress {\n    192.168.0.100\n  }\n  smtp_alert\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := newMailer(cfg, slog.New(slog.DiscardHandler), nil)
	if m != nil {
		t.Fatalf("mailer %+v without smtp_server", m)
	}
	m.instanceAlert(cfg, vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster})
	m.alert(alertMail{})
	m.close(time.Second)
}

// A reload keeps the mail server settings (a change needs a restart);
// which blocks send alerts may change.
func TestSameMail(t *testing.T) {
	base := func() *config.Mail {
		return &config.Mail{Server: "192.0.2.25", Port: 25, ConnectTimeout: 30 * time.Second, To: []string{"ops@example.com"},
			Alerts: map[config.Pos]bool{{File: "k.conf", Line: 9}: true}, Pos: config.Pos{File: "k.conf", Line: 3}}
	}
	moved, alerts, server, to := base(), base(), base(), base()
	moved.Pos.Line = 4
	alerts.Alerts = map[config.Pos]bool{}
	server.Port = 2525
	to.To = append(to.To, "noc@example.com")
	for _, tc := range []struct {
		name string
		a, b *config.Mail
		want bool
	}{
		{"none", nil, nil, true},
		{"added", nil, base(), false},
		{"moved in the file", base(), moved, true},
		{"other alerts", base(), alerts, true},
		{"other port", base(), server, false},
		{"other recipients", base(), to, false},
	} {
		if got := sameMail(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: sameMail %v, want %v", tc.name, got, tc.want)
		}
	}
}
