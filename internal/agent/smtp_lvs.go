package agent

// setMail sets where the alert e-mails of the pools go (it must not
// block) and hands it those already due.
func (s *lvsState) setMail(f func(alertMail)) {
	s.mail = f
	if f == nil {
		return
	}
	for _, m := range s.pendingMail {
		f(m)
	}
	s.pendingMail = nil
}

// alertRS mails a real server of pl going up or down (shutdown: at
// stop), when it sends alerts. As in keepalived, whose checkers send
// these alerts, a real server without checkers (FILE_CHECKs aside) sends
// none but at stop.
func (p *plan) alertRS(pl *pool, d *poolDest, up, shutdown bool) {
	if pl.vs == nil || d.rs == nil || !p.mail.Alert(d.rs.Pos) || (len(d.rs.Checkers) == 0 && !shutdown) {
		return
	}
	p.queueMail(realServerMail(pl.vs, d.rs, up, shutdown))
}

// alertQuorum mails pl gaining or losing its quorum (start: its first
// state; shutdown: at stop), when its virtual server sends alerts.
func (p *plan) alertQuorum(pl *pool, up, start, shutdown bool, threshold, sum int) {
	if pl.vs == nil || !p.mail.Alert(pl.vs.Pos) {
		return
	}
	p.queueMail(quorumMail(pl.vs, up, start, shutdown, pl.quorum, pl.hyst, threshold, sum))
}

func (p *plan) queueMail(m alertMail) {
	if p.lvs.mail != nil {
		p.lvs.mail(m)
		return
	}
	p.lvs.pendingMail = append(p.lvs.pendingMail, m)
}
