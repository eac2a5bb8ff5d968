package agent

// setFIFO sets where the pools' FIFO lines go (notify_fifo and
// lvs_notify_fifo; it must not block) and hands it those already due.
func (s *lvsState) setFIFO(f func(line string)) {
	s.fifo = f
	if f == nil {
		return
	}
	for _, l := range s.pendingFIFO {
		f(l)
	}
	s.pendingFIFO = nil
}

// fifoRS writes a real server of pl going up or down, "RS [ADDR]:PROTO:PORT
// VS UP|DOWN", where keepalived's checkers write it: wherever its
// notify_up or notify_down would run, whether or not it has one
// (ipwrapper.c, do_rs_notifies).
func (p *plan) fifoRS(pl *pool, d *poolDest, up bool) {
	if pl.vs == nil || d.rs == nil {
		return
	}
	p.queueFIFO("RS " + fmtRS(pl.vs, d.rs) + " " + fmtVS(pl.vs) + " " + upDown(up) + "\n")
}

// fifoVS writes pl's virtual server gaining or losing its quorum, "VS VS
// UP|DOWN", wherever keepalived would run quorum_up or quorum_down
// (ipwrapper.c, do_vs_notifies).
func (p *plan) fifoVS(pl *pool, up bool) {
	if pl.vs == nil {
		return
	}
	p.queueFIFO("VS " + fmtVS(pl.vs) + " " + upDown(up) + "\n")
}

func (p *plan) queueFIFO(line string) {
	if p.lvs.fifo != nil {
		p.lvs.fifo(line)
		return
	}
	p.lvs.pendingFIFO = append(p.lvs.pendingFIFO, line)
}

func upDown(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}
