package agent

import (
	"fmt"
	"strings"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// alertMail is one of keepalived's alert e-mails: its subject, which the
// mailer prefixes with "[ROUTER_ID] ", and its one-line body. The texts
// are keepalived 2.2.7's (smtp.c, vrrp_notify.c, ipwrapper.c and the
// checkers).
type alertMail struct {
	subject, body string
}

// instanceMail is the alert of a VRRP instance entering state to; false
// for a state keepalived sends none for.
func instanceMail(name string, to vrrp.State) (alertMail, bool) {
	var what, body string
	switch to {
	case vrrp.StateMaster:
		what, body = "Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="
	case vrrp.StateBackup:
		what, body = "Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="
	case vrrp.StateFault:
		what, body = "Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="
	case vrrp.StateStopped:
		what, body = "Stopping", "=> VRRP Instance stopping <="
	default:
		return alertMail{}, false
	}
	return alertMail{"VRRP Instance " + name + " - " + what, body}, true
}

// groupMail is the alert of a sync group entering state to; false for a
// state keepalived sends none for.
func groupMail(name string, to vrrp.State) (alertMail, bool) {
	var what, body string
	switch to {
	case vrrp.StateMaster:
		what, body = "Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="
	case vrrp.StateBackup:
		what, body = "Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="
	case vrrp.StateFault:
		what, body = "Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="
	case vrrp.StateStopped:
		what, body = "Stopping", "=> All VRRP group instances are now stopping <="
	default:
		return alertMail{}, false
	}
	return alertMail{"VRRP Group " + name + " - " + what, body}, true
}

// protoName is the protocol as keepalived writes it in a service.
func protoName(p config.Protocol) string {
	switch p {
	case config.TCP:
		return "tcp"
	case config.UDP:
		return "udp"
	case config.SCTP:
		return "sctp"
	case "":
		return "none"
	}
	return "?"
}

// fmtVS names a virtual server as keepalived does in its alerts:
// "[GROUP]:0", "FWM N" or "[ADDRESS]:PROTO:PORT".
func fmtVS(vs *config.VirtualServer) string {
	switch {
	case vs.Group != "":
		return fmt.Sprintf("[%s]:%d", vs.Group, vs.Addr.Port())
	case vs.FWMark != 0:
		return fmt.Sprintf("FWM %d", vs.FWMark)
	}
	return fmt.Sprintf("[%s]:%s:%d", vs.Addr.Addr(), protoName(vs.Protocol), vs.Addr.Port())
}

// fmtRS names a real server of vs as keepalived does: "[ADDRESS]:PROTO:PORT".
func fmtRS(vs *config.VirtualServer, rs *config.RealServer) string {
	return fmt.Sprintf("[%s]:%s:%d", rs.Addr.Addr(), protoName(vs.Protocol), rs.Addr.Port())
}

// checkerWords are the bodies keepalived's checkers send when a real
// server goes up and down, by checker (its first one: lbnode follows a
// real server's checkers together).
var checkerWords = map[config.CheckKind][2]string{
	config.TCPCheck:  {"=> TCP CHECK succeed on service <=", "=> TCP CHECK failed on service <="},
	config.UDPCheck:  {"=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <="},
	config.PingCheck: {"=> ICMP CHECK succeed on service <=", "=> ICMP CHECK failed on service <="},
	config.DNSCheck:  {"=> DNS_CHECK: succeed on service <=", "=> DNS_CHECK: failed on service <="},
	config.HTTPGet:   {"=> CHECK succeed on service <=", "=> CHECK failed on service : HTTP request failed <="},
	config.SSLGet:    {"=> CHECK succeed on service <=", "=> CHECK failed on service : HTTP request failed <="},
	config.SMTPCheck: {"=> CHECK succeed on service <=", "=> CHECK failed on service <="},
	config.MiscCheck: {"=> MISC CHECK succeeded on service <=", "=> MISC CHECK failed on service <="},
}

// realServerMail is the alert of a real server of vs going up or down
// (its checker's words); shutdown, the one of a live real server at stop
// with omega.
func realServerMail(vs *config.VirtualServer, rs *config.RealServer, up, shutdown bool) alertMail {
	state, body := "DOWN", ""
	if up {
		state = "UP"
	}
	switch {
	case shutdown:
		body = "=> Shutting down <="
	case len(rs.Checkers) > 0:
		w := checkerWords[rs.Checkers[0].Kind]
		body = w[1]
		if up {
			body = w[0]
		}
	}
	return alertMail{"Realserver " + fmtRS(vs, rs) + " of virtual server " + fmtVS(vs) + " - " + state, body}
}

// quorumMail is the alert of vs gaining (up) or losing its quorum, at
// start (the first state) or later, with keepalived's figures: quorum,
// hysteresis, the threshold crossed and the live weight; shutdown, the
// one at stop with omega.
func quorumMail(vs *config.VirtualServer, up, start, shutdown bool, quorum, hyst, threshold, sum int) alertMail {
	state := "DOWN"
	if up {
		state = "UP"
	}
	var body string
	if shutdown {
		body = "=> Shutting down <="
	} else {
		var what string
		switch {
		case up && start:
			what = "Starting with quorum up"
		case up:
			what = "Gained quorum"
		case start:
			what = "Starting with quorum down"
		default:
			what = "Lost quorum"
		}
		body = fmt.Sprintf("=> %s %d+%d=%d <= %d <=", what, quorum, hyst, threshold, sum)
	}
	return alertMail{"Virtualserver " + fmtVS(vs) + " - " + state, body}
}

// Limits of keepalived's alerts (smtp.h): longer subjects and bodies are
// cut.
const (
	maxMailSubject = 255
	maxMailBody    = 511
)

// mailText is the message keepalived sends: its headers (Date, From,
// Subject, X-Mailer, To) and body, the body followed by an empty line,
// lines ending in CRLF. date is in RFC 1123 form with a numeric zone.
func mailText(date, from string, to []string, subject, body string) string {
	subject, body = cut(subject, maxMailSubject), cut(body, maxMailBody)
	var b strings.Builder
	fmt.Fprintf(&b, "Date: %s\r\nFrom: %s\r\nSubject: %s\r\nX-Mailer: Keepalived (lbnode)\r\nTo: %s\r\n\r\n%s\r\n\r\n",
		date, from, subject, strings.Join(to, ", "), body)
	return b.String()
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
