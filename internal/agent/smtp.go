package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"os/user"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// mailQueueLen bounds the alerts waiting for the SMTP server; one more
// is dropped (logged and counted).
const mailQueueLen = 64

// MailStats counts the alert e-mails of a node (keepalived's
// smtp_alert).
type MailStats struct {
	// Sent were accepted by the SMTP server; Failed were not (each
	// logged with the server and the error, and not tried again);
	// Dropped found the queue full or came after the stop.
	Sent, Failed, Dropped uint64
}

// MailStats returns the counts of the node's alert e-mails (all zero
// without mail settings).
func (a *Agent) MailStats() MailStats {
	a.mu.Lock()
	m := a.mail
	a.mu.Unlock()
	if m == nil {
		return MailStats{}
	}
	return MailStats{Sent: m.sent.Load(), Failed: m.failed.Load(), Dropped: m.dropped.Load()}
}

// mailer sends keepalived's alert e-mails as keepalived does (smtp.c):
// one connection per alert, HELO, MAIL FROM, RCPT TO for each recipient,
// DATA with Date, From, Subject, X-Mailer and To headers, QUIT. Alerts
// wait in a bounded queue that one goroutine drains, so that VRRP and
// the health checks never wait for the server; the connection and each
// reply are bounded by the connect timeout, and a failed delivery is
// logged and counted, not tried again (keepalived does not either).
type mailer struct {
	server   string // host:port
	host     string
	timeout  time.Duration
	routerID string
	helo     string
	from     string
	to       []string
	log      *slog.Logger
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	now      func() time.Time

	mu     sync.Mutex
	closed bool
	// lastState is the state last mailed, by instance or group.
	lastState map[string]vrrp.State
	queue     chan alertMail
	// ctx ends the delivery under way when the stop's wait runs out.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	sent, failed, dropped atomic.Uint64
}

// newMailer returns the mailer of cfg's mail settings, started, or nil
// when cfg sends no mail. dial opens the connections (nil: net.Dialer).
func newMailer(cfg *config.Config, log *slog.Logger, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *mailer {
	mc := cfg.Mail
	if mc == nil {
		return nil
	}
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	m := &mailer{
		server:   net.JoinHostPort(mc.Server, strconv.Itoa(int(mc.Port))),
		host:     mc.Server,
		timeout:  mc.ConnectTimeout,
		routerID: cfg.Global.RouterID,
		helo:     mc.HeloName,
		from:     mc.From,
		to:       mc.To,
		log:      log,
		dial:     dial,
		now:      time.Now,
		queue:    make(chan alertMail, mailQueueLen),
		done:     make(chan struct{}),
	}
	if m.timeout <= 0 {
		m.timeout = config.DefaultSMTPConnectTimeout
	}
	// What keepalived takes from the host's name when the file does not
	// say (global_data.c): the router_id, the HELO name and USER@NAME.
	if name := localName(); name != "" {
		if m.routerID == "" {
			m.routerID = name
		}
		if m.helo == "" {
			m.helo = name
		}
		if m.from == "" {
			if u, err := user.Current(); err == nil {
				m.from = u.Username + "@" + name
			}
		}
	}
	if m.helo == "" {
		m.helo = "localhost" // keepalived's HELO without a name
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	go m.run()
	return m
}

// localName is the host's name, as keepalived names the host.
func localName() string {
	name, err := os.Hostname()
	if err != nil {
		return ""
	}
	return name
}

// alert queues one alert; it never blocks. A nil mailer sends nothing.
func (m *mailer) alert(a alertMail) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		m.dropped.Add(1)
		m.log.Warn("smtp: alert after the stop; not sent", "subject", a.subject)
		return
	}
	select {
	case m.queue <- a:
	default:
		m.dropped.Add(1)
		m.log.Error("smtp: alert queue full; alert dropped", "server", m.server, "subject", a.subject)
	}
}

// close stops taking alerts and waits up to wait for those queued to be
// delivered; what is left after that is abandoned (counted as dropped).
func (m *mailer) close(wait time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.queue)
	}
	m.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-m.done:
	case <-t.C:
		m.log.Warn("smtp: alerts still queued at the stop; abandoned", "server", m.server, "queued", len(m.queue))
		m.cancel()
		<-m.done
	}
	m.cancel()
}

func (m *mailer) run() {
	defer close(m.done)
	for a := range m.queue {
		if m.ctx.Err() != nil {
			m.dropped.Add(1)
			continue
		}
		subject := a.subject
		if m.routerID != "" {
			subject = "[" + m.routerID + "] " + subject
		}
		if err := m.deliver(m.ctx, subject, a.body); err != nil {
			m.failed.Add(1)
			m.log.Error("smtp: alert not sent", "server", m.server, "subject", subject, "err", err)
			continue
		}
		m.sent.Add(1)
		m.log.Info("smtp: alert sent", "server", m.server, "subject", subject)
	}
}

// deliver sends one message: connecting and each reply of the server
// bounded by the connect timeout, as keepalived bounds them.
func (m *mailer) deliver(ctx context.Context, subject, body string) (err error) {
	dctx, cancel := context.WithTimeout(ctx, m.timeout)
	conn, err := m.dial(dctx, "tcp", m.server)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	step := func() { _ = conn.SetDeadline(time.Now().Add(m.timeout)) }
	step()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	step()
	if err := c.Hello(m.helo); err != nil {
		return err
	}
	step()
	if err := c.Mail(m.from); err != nil {
		return err
	}
	for _, to := range m.to {
		step()
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	step()
	w, err := c.Data()
	if err != nil {
		return err
	}
	step()
	text := mailText(m.now().Format(time.RFC1123Z), m.from, m.to, subject, body)
	if _, err := w.Write([]byte(text)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	step()
	if err := c.Quit(); err != nil && !errors.Is(err, net.ErrClosed) {
		// The message was accepted: a QUIT that fails does not undo it.
		m.log.Debug("smtp: QUIT", "server", m.server, "err", err)
	}
	return nil
}

// mailStopWait bounds how long a stopping node waits for its last alerts
// (the instances' "Stopping") to be delivered.
const mailStopWait = 5 * time.Second

// stateAlert queues the alert of a VRRP instance or sync group (key)
// entering to, unless the last one mailed for it was of that state, as
// keepalived remembers it (last_email_state).
func (m *mailer) stateAlert(key string, to vrrp.State, a alertMail) {
	m.mu.Lock()
	if m.lastState == nil {
		m.lastState = map[string]vrrp.State{}
	}
	last, ok := m.lastState[key]
	if ok && last == to {
		m.mu.Unlock()
		return
	}
	m.lastState[key] = to
	m.mu.Unlock()
	m.alert(a)
}

// instanceAlert mails a VRRP instance's transition t when the instance
// sends alerts (FAULT not with no_email_faults).
func (m *mailer) instanceAlert(cfg *config.Config, t vrrp.Transition) {
	if m == nil || cfg.Mail == nil || (t.To == vrrp.StateFault && cfg.Mail.NoFaultMails) {
		return
	}
	for _, in := range cfg.VRRP {
		if in.Name != t.Instance || !cfg.Mail.Alert(in.Pos) {
			continue
		}
		if a, ok := instanceMail(t.Instance, t.To); ok {
			m.stateAlert("instance "+t.Instance, t.To, a)
		}
	}
}

// groupAlerts returns what mails a sync group's new state when the
// group sends alerts (nil: no mail).
func (a *Agent) groupAlerts(cfg *config.Config) func(g *config.SyncGroup, to vrrp.State) {
	a.mu.Lock()
	m := a.mail
	a.mu.Unlock()
	if m == nil || cfg.Mail == nil {
		return nil
	}
	return func(g *config.SyncGroup, to vrrp.State) {
		if !cfg.Mail.Alert(g.Pos) || (to == vrrp.StateFault && cfg.Mail.NoFaultMails) {
			return
		}
		if al, ok := groupMail(g.Name, to); ok {
			m.stateAlert("group "+g.Name, to, al)
		}
	}
}

// sameMail reports whether two mail settings send to the same place in
// the same way (which blocks send alerts may differ).
func sameMail(a, b *config.Mail) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Pos, y.Pos = config.Pos{}, config.Pos{}
	x.Alerts, y.Alerts = nil, nil
	return reflect.DeepEqual(x, y)
}
