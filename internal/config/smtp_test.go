package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// smtpConf is a keepalived.conf with mail settings: global is the
// global_defs mail lines, and each block's extra lines are inserted into
// it (each but global one line).
func smtpConf(global, group, vi1, vs, rs1 string) string {
	pad := func(s string) string { // one line each
		if s == "" {
			return "  !"
		}
		return "  " + s
	}
	return fmt.Sprintf(`global_defs {
  router_id lb1
%s
  !
  !
  !
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
%s
}
vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 1
  virtual_ipaddress {
    192.168.0.100
  }
%s
}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 2
  virtual_ipaddress {
    192.168.0.101
  }
  !
}
virtual_server 192.168.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
%s
  real_server 10.0.0.1 80 {
%s
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.0.0.2 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`, global, pad(group), pad(vi1), pad(vs), pad(rs1))
}

// mailGlobal is a global_defs mail section that sends mail.
const mailGlobal = `  notification_email {
    ops@example.com
    noc@example.com
  }
  smtp_server 192.0.2.25`

func TestParseKeepalivedMailSettings(t *testing.T) {
	src := smtpConf(`  notification_email {
    ops@example.com noc@example.com
  }
  notification_email { admin@example.com }
  notification_email_from lb1@example.com
  smtp_server mail.example.com 2525
  smtp_connect_timeout 7
  smtp_helo_name lb1.example.com extra
  no_email_faults`, "", "", "", "")
	c, err := ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Mail{
		Pos: Pos{File: "k.conf", Line: 8}, Server: "mail.example.com", Port: 2525, ConnectTimeout: 7 * time.Second,
		HeloName: "lb1.example.com", From: "lb1@example.com",
		To:           []string{"ops@example.com", "noc@example.com", "admin@example.com"},
		NoFaultMails: true,
	}
	got := *c.Mail
	got.Alerts = nil
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("Mail (-want +got):\n%s", diff)
	}
	for _, w := range c.Warnings {
		if strings.Contains(w.Directive, "smtp") || strings.Contains(w.Directive, "notification") || w.Directive == "no_email_faults" {
			t.Errorf("unexpected warning %v", w)
		}
	}
}

func TestParseKeepalivedMailDefaults(t *testing.T) {
	c, err := ParseKeepalived("k.conf", []byte(smtpConf(mailGlobal, "", "", "", "")))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	if m == nil {
		t.Fatal("no Mail")
	}
	if m.Port != 25 || m.ConnectTimeout != 30*time.Second || m.HeloName != "" || m.From != "" || m.NoFaultMails {
		t.Errorf("defaults: got port %d, timeout %v, helo %q, from %q, no faults %v; want 25, 30s, host's name, USER@host, false",
			m.Port, m.ConnectTimeout, m.HeloName, m.From, m.NoFaultMails)
	}
	for _, tc := range []struct {
		name, src string
	}{
		{"no smtp_server", smtpConf("  notification_email {\n    ops@example.com\n  }\n  smtp_alert", "", "", "", "")},
		{"no recipient", smtpConf("  smtp_server 192.0.2.25\n  smtp_alert", "", "", "", "")},
		{"invalid port", smtpConf(mailGlobal+" 25x", "", "", "", "")},
		{"a later invalid line", smtpConf(mailGlobal+"\n  smtp_server 192.0.2.26 x", "", "", "", "")},
	} {
		c, err := ParseKeepalived("k.conf", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Mail != nil {
			t.Errorf("%s: Mail %+v, want nil: keepalived sends no mail", tc.name, c.Mail)
		}
	}
}

// Which blocks send alerts, as keepalived 2.2.7 resolves smtp_alert: the
// block's own, else smtp_alert_vrrp (instances and groups) or
// smtp_alert_checker (virtual and real servers), else smtp_alert, else
// off, but on for real servers.
func TestParseKeepalivedMailAlerts(t *testing.T) {
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	// Positions with mailGlobal (5 lines) in global_defs.
	g1, vi1, vi2, vs, rs1, rs2 := at(12), at(18), at(26), at(34), at(39), at(45)
	type alerts struct{ g1, vi1, vi2, vs, rs1, rs2 bool }
	tests := []struct {
		name                       string
		global, group, vi1, vs, rs string
		want                       alerts
	}{
		{"defaults", "", "", "", "", "", alerts{rs1: true, rs2: true}},
		{"global smtp_alert", "smtp_alert", "", "", "", "", alerts{true, true, true, true, true, true}},
		{"global smtp_alert off", "smtp_alert off", "", "", "", "", alerts{}},
		{"smtp_alert_vrrp over smtp_alert", "smtp_alert\n  smtp_alert_vrrp no", "", "", "", "", alerts{vs: true, rs1: true, rs2: true}},
		{"smtp_alert_checker over smtp_alert", "smtp_alert yes\n  smtp_alert_checker false", "", "", "", "", alerts{g1: true, vi1: true, vi2: true}},
		{"the blocks' own", "smtp_alert_checker off", "smtp_alert", "smtp_alert on", "smtp_alert true", "smtp_alert", alerts{g1: true, vi1: true, vs: true, rs1: true}},
		{"the blocks' own off", "smtp_alert", "smtp_alert off", "smtp_alert no", "smtp_alert false", "smtp_alert off", alerts{vi2: true, rs2: true}},
		{"an invalid value is ignored", "smtp_alert", "", "smtp_alert maybe", "", "", alerts{true, true, true, true, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			global := mailGlobal
			if tc.global != "" {
				// Keep the line count: the global lines replace comments.
				global = strings.Replace(mailGlobal, "  smtp_server 192.0.2.25", "  smtp_server 192.0.2.25\n  "+tc.global, 1)
			}
			src := smtpConf(global, tc.group, tc.vi1, tc.vs, tc.rs)
			extra := strings.Count(tc.global, "\n") + 1
			if tc.global == "" {
				extra = 0
			}
			shift := func(p Pos) Pos { p.Line += extra; return p }
			c, err := ParseKeepalived("k.conf", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			m := c.Mail
			got := alerts{m.Alert(shift(g1)), m.Alert(shift(vi1)), m.Alert(shift(vi2)), m.Alert(shift(vs)), m.Alert(shift(rs1)), m.Alert(shift(rs2))}
			if got != tc.want {
				t.Errorf("alerts %+v, want %+v (positions %v)", got, tc.want, m.Alerts)
			}
			if len(m.Alerts) != 6 {
				t.Errorf("%d alerts %v, want one per block (6)", len(m.Alerts), m.Alerts)
			}
		})
	}
}

// keepalived reports these and runs on: accepted with a warning at the
// line.
func TestParseKeepalivedMailWarnings(t *testing.T) {
	tests := []struct {
		name, global, vi1 string
		line              int // of the warning
		want              string
	}{
		{"timeout 0", "smtp_connect_timeout 0", "", 8, "must be greater than 0: 1 s"},
		{"timeout not a number", "smtp_connect_timeout 30s", "", 8, `"30s" must be a number of seconds 0-4294: ignored`},
		{"timeout too long", "smtp_connect_timeout 4295", "", 8, "ignored"},
		{"invalid port", "smtp_server 192.0.2.26 smtp", "", 8, "invalid smtp server 192.0.2.26 smtp: no mail is sent"},
		{"global smtp_alert", "smtp_alert maybe", "", 8, `invalid global smtp_alert value "maybe": ignored`},
		{"smtp_alert_vrrp", "smtp_alert_vrrp 2", "", 8, `invalid global smtp_alert_vrrp value "2"`},
		{"smtp_alert_checker", "smtp_alert_checker x", "", 8, `invalid global smtp_alert_checker value "x"`},
		{"no_checker_emails", "no_checker_emails x", "", 8, `invalid global no_checker_emails value "x"`},
		{"instance smtp_alert", "", "smtp_alert 1", 25, `invalid vrrp_instance smtp_alert value "1"`},
		{"from missing", "notification_email_from", "", 8, "missing address: ignored"},
		{"empty notification_email", "notification_email {\n  }", "", 8, "empty notification_email block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			global := mailGlobal + "\n  " + tc.global
			if tc.global == "" {
				global = mailGlobal + "\n  !"
			}
			src := smtpConf(global, "", tc.vi1, "", "")
			c, err := ParseKeepalived("k.conf", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range c.Warnings {
				if w.Pos.Line == tc.line && strings.Contains(w.Msg, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no warning at k.conf:%d saying %q; warnings: %v", tc.line, tc.want, c.Warnings)
			}
		})
	}
}

// Where keepalived cannot run the file (smtp_server without a server),
// the reader refuses it at the line.
func TestParseKeepalivedMailErrors(t *testing.T) {
	for _, tc := range []struct{ name, global, want string }{
		{"smtp_server without a server", "  smtp_server", "k.conf:3: smtp_server: missing value"},
		{"notification_email not a block", "  notification_email ops@example.com", "k.conf:3: notification_email: must be a block"},
	} {
		_, err := ParseKeepalived("k.conf", []byte(smtpConf(tc.global, "", "", "", "")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A real server with several checkers mails when it goes up or down, not
// at each checker: said at the real server unless no_checker_emails.
func TestParseKeepalivedMailSeveralCheckers(t *testing.T) {
	twoCheckers := "MISC_CHECK {\n      misc_path /bin/true\n    }"
	for _, tc := range []struct {
		global string
		warn   bool
	}{{"", true}, {"\n  no_checker_emails", false}, {"\n  smtp_alert_checker off", false}} {
		c, err := ParseKeepalived("k.conf", []byte(smtpConf(mailGlobal+tc.global, "", "", "", twoCheckers)))
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, w := range c.Warnings {
			got = got || strings.Contains(w.Msg, "not each time one of its checkers does")
		}
		if got != tc.warn {
			t.Errorf("global %q: warned %v, want %v: %v", tc.global, got, tc.warn, c.Warnings)
		}
	}
}
