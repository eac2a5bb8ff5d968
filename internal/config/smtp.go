package config

import (
	"strconv"
	"strings"
	"time"
)

// Mail is keepalived's e-mail alerting, as keepalived 2.2.7 reads it:
// global_defs smtp_server, smtp_connect_timeout, smtp_helo_name,
// notification_email, notification_email_from, no_email_faults, and
// smtp_alert (global_defs smtp_alert, smtp_alert_vrrp and
// smtp_alert_checker, and smtp_alert in vrrp_instance, vrrp_sync_group,
// virtual_server and real_server). Config.Mail is nil when no mail can
// be sent: without a valid smtp_server or without a recipient, as
// keepalived then sends none. keepalived.conf only.
type Mail struct {
	// Pos is where the smtp_server line is.
	Pos Pos
	// Server is the SMTP server as written, an address or a host name
	// (resolved at each connection), and Port its port (25 unless given).
	Server string
	Port   uint16
	// ConnectTimeout bounds the connection and each reply of the
	// server (smtp_connect_timeout; DefaultSMTPConnectTimeout).
	ConnectTimeout time.Duration
	// HeloName is the HELO name, and From the sender; "" means what
	// keepalived makes from the host's name (the name, and USER@NAME).
	HeloName string
	From     string
	// To are the recipients, in order (notification_email).
	To []string
	// NoFaultMails: no mail when an instance or a sync group enters
	// FAULT (no_email_faults).
	NoFaultMails bool
	// Alerts says, by the position of a vrrp_instance, vrrp_sync_group,
	// virtual_server or real_server block, whether it sends alerts: its
	// own smtp_alert, else global_defs smtp_alert_vrrp (instances and
	// groups) or smtp_alert_checker (virtual and real servers), else
	// global_defs smtp_alert, else no, but yes for a real server (as
	// keepalived 2.2.7 keeps it for backward compatibility). A virtual
	// server's alerts are its quorum changes, a real server's its
	// changes of state.
	Alerts map[Pos]bool
}

// DefaultSMTPConnectTimeout is keepalived's smtp_connect_timeout.
const DefaultSMTPConnectTimeout = 30 * time.Second

// maxSMTPConnectTimeout is the largest smtp_connect_timeout keepalived
// reads (UINT_MAX microseconds, in seconds).
const maxSMTPConnectTimeout = 4294

// Alert reports whether the block at p sends alerts; false for a nil
// Mail.
func (m *Mail) Alert(p Pos) bool {
	return m != nil && m.Alerts[p]
}

// smtpState is what the reader keeps of the mail settings while it reads
// a file: they are resolved once the whole file is read, as keepalived
// resolves them.
type smtpState struct {
	mail      Mail
	serverSet bool
	// alert, alertVRRP, alertChecker are global_defs smtp_alert,
	// smtp_alert_vrrp and smtp_alert_checker (nil: not set).
	alert, alertVRRP, alertChecker *bool
	noCheckerEmails                bool
	// explicit are the blocks' own smtp_alert, by the block's position.
	explicit map[Pos]bool
}

// smtpGlobal reads a mail setting of global_defs and reports whether n
// was one.
func (m *kaMapper) smtpGlobal(n *node) bool {
	s := &m.smtp
	switch n.name {
	case "smtp_server":
		m.smtpServer(n)
	case "smtp_connect_timeout":
		v, ok := m.value(n)
		if !ok {
			return true
		}
		secs, err := strconv.ParseUint(strings.TrimLeft(v, " \t"), 10, 64)
		switch {
		case err != nil || secs > maxSMTPConnectTimeout:
			m.warnf(n, "%q must be a number of seconds 0-%d: ignored, as keepalived ignores it", v, maxSMTPConnectTimeout)
		case secs == 0:
			m.warnf(n, "must be greater than 0: 1 s, as keepalived sets it")
			s.mail.ConnectTimeout = time.Second
		default:
			s.mail.ConnectTimeout = time.Duration(secs) * time.Second
		}
	case "smtp_helo_name":
		// keepalived reads the first word and ignores the line without one.
		if !n.block && len(n.args) > 0 {
			s.mail.HeloName = n.args[0].text
		}
	case "notification_email_from":
		if !n.block && len(n.args) == 0 {
			m.warnf(n, "missing address: ignored, as keepalived ignores it")
			return true
		}
		if ws, ok := m.words(n); ok {
			s.mail.From = ws[0]
		}
	case "notification_email":
		if !n.block {
			m.errf(n, "must be a block: notification_email { ADDRESS ... }")
			return true
		}
		// Every word of the block is an address, as keepalived reads it.
		var to []string
		for _, c := range n.children {
			if c.block {
				m.errf(c, "takes no block")
				continue
			}
			to = append(to, c.name)
			to = append(to, c.argStrings()...)
		}
		if len(to) == 0 {
			m.warnf(n, "empty notification_email block, as keepalived warns")
		}
		s.mail.To = append(s.mail.To, to...)
	case "smtp_alert":
		s.alert = m.smtpBool(n, "global smtp_alert", s.alert)
	case "smtp_alert_vrrp":
		s.alertVRRP = m.smtpBool(n, "global smtp_alert_vrrp", s.alertVRRP)
	case "smtp_alert_checker":
		s.alertChecker = m.smtpBool(n, "global smtp_alert_checker", s.alertChecker)
	case "no_email_faults":
		// keepalived sets it whatever follows.
		if !n.block {
			s.mail.NoFaultMails = true
		}
	case "no_checker_emails":
		if v := m.smtpBool(n, "global no_checker_emails", nil); v != nil {
			s.noCheckerEmails = *v
		}
	default:
		return false
	}
	return true
}

// smtpServer reads smtp_server ADDRESS|NAME [PORT].
func (m *kaMapper) smtpServer(n *node) {
	s := &m.smtp
	ws, ok := m.words(n)
	if !ok {
		return
	}
	port := "25"
	if len(ws) >= 2 {
		port = ws[1]
	}
	// keepalived forgets the server it had when a later line is invalid.
	s.serverSet = false
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || ws[0] == "" {
		m.warnf(n, "invalid smtp server %s %s: no mail is sent, as keepalived sends none", ws[0], port)
		return
	}
	s.mail.Pos, s.mail.Server, s.mail.Port, s.serverSet = n.pos, ws[0], uint16(p), true
}

// smtpBool reads keepalived's optional boolean of a smtp_alert line: no
// value is true; a value other than true/on/yes/false/off/no is ignored
// with keepalived's warning, leaving old.
func (m *kaMapper) smtpBool(n *node, what string, old *bool) *bool {
	if n.block {
		m.errf(n, "takes no block")
		return old
	}
	v := true
	if len(n.args) > 0 {
		switch n.args[0].text {
		case "true", "on", "yes":
		case "false", "off", "no":
			v = false
		default:
			m.warnf(n, "invalid %s value %q: ignored, as keepalived ignores it", what, n.args[0].text)
			return old
		}
	}
	return &v
}

// smtpAlert reads the smtp_alert of the block at p (a vrrp_instance,
// vrrp_sync_group, virtual_server or real_server named by what).
func (m *kaMapper) smtpAlert(n *node, what string, p Pos) {
	v := m.smtpBool(n, what+" smtp_alert", nil)
	if v == nil {
		return
	}
	if m.smtp.explicit == nil {
		m.smtp.explicit = map[Pos]bool{}
	}
	m.smtp.explicit[p] = *v
}

// smtpEnd resolves the mail settings once the file is read: Config.Mail
// with the alerts of every block, or nil when no mail can be sent.
func (m *kaMapper) smtpEnd() {
	s := &m.smtp
	if !s.serverSet || len(s.mail.To) == 0 {
		return
	}
	mail := s.mail
	if mail.ConnectTimeout == 0 {
		mail.ConnectTimeout = DefaultSMTPConnectTimeout
	}
	mail.Alerts = map[Pos]bool{}
	resolve := func(p Pos, level *bool, dflt bool) bool {
		if v, ok := s.explicit[p]; ok {
			return v
		}
		switch {
		case level != nil:
			return *level
		case s.alert != nil:
			return *s.alert
		}
		return dflt
	}
	for _, in := range m.cfg.VRRP {
		mail.Alerts[in.Pos] = resolve(in.Pos, s.alertVRRP, false)
	}
	for _, g := range m.cfg.SyncGroups {
		mail.Alerts[g.Pos] = resolve(g.Pos, s.alertVRRP, false)
	}
	for _, vs := range m.cfg.VirtualServers {
		mail.Alerts[vs.Pos] = resolve(vs.Pos, s.alertChecker, false)
		for _, rs := range vs.RealServers {
			on := resolve(rs.Pos, s.alertChecker, true)
			mail.Alerts[rs.Pos] = on
			if on && len(rs.Checkers) > 1 && !s.noCheckerEmails {
				m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: rs.Pos, Directive: "real_server",
					Msg: "alerts: lbnode mails when the real server goes up or down, not each time one of its checkers does (keepalived mails so with no_checker_emails)"})
			}
		}
	}
	m.cfg.Mail = &mail
}
