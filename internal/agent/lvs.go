package agent

import (
	"net/netip"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
)

// pool is one configured virtual server as keepalived runs it
// (ipwrapper.c): its IPVS services (several for a virtual_server_group),
// its real servers, the sorry server and the quorum.
type pool struct {
	name     string
	services []ipvs.Service
	dests    []poolDest
	// sorry is nil without a sorry_server.
	sorry        *ipvs.Destination
	sorryInhibit bool
	quorum, hyst int
	quorumUp     []string
	quorumDown   []string
	omega        bool
	// vs is the configured virtual server, for its alert e-mails.
	vs *config.VirtualServer
}

// poolDest is one real server of a pool.
type poolDest struct {
	dest       ipvs.Destination // configured weight
	target     string           // health target; "" without checkers
	inhibit    bool
	alpha      bool
	notifyUp   []string
	notifyDown []string
	files      []config.FileCheck // FILE_CHECKs
	// rs is the configured real server, for its alert e-mails.
	rs *config.RealServer
}

// lvsState is what the pools remember between health events: whether
// each real server was alive (by pool and index) and whether each pool
// had its quorum. notify, if set, runs the programs keepalived runs on
// those changes (it must not block).
type lvsState struct {
	started bool
	alive   [][]bool
	quorum  []bool
	notify  func(argv []string)
	// pending are programs due before notify was set (a quorum lost at
	// start, before the notify runner exists).
	pending [][]string
	// mail queues alert e-mails (nil: none; see alertRS, alertQuorum).
	mail        func(alertMail)
	pendingMail []alertMail
	// fifo writes the FIFO lines (nil: none yet; see fifoRS, fifoVS).
	fifo        func(line string)
	pendingFIFO []string
}

// setNotify sets the runner of the programs and hands it those already
// due.
func (s *lvsState) setNotify(f func(argv []string)) {
	s.notify = f
	for _, argv := range s.pending {
		f(argv)
	}
	s.pending = nil
}

// alive reports whether a real server is in service given the health
// state: without checkers always; with, as its last result, and before
// any result up unless alpha (keepalived starts checkers as passed).
func (d *poolDest) alive(up map[string]targetState) (alive bool, weight int) {
	a, w := d.checked(up)
	return applyFileChecks(d.files, up, a, w)
}

// checked is the real server's state by its checkers other than
// FILE_CHECKs.
func (d *poolDest) checked(up map[string]targetState) (alive bool, weight int) {
	w := int(d.dest.Weight)
	if d.target == "" {
		return true, w
	}
	st, known := up[d.target]
	switch {
	case !known:
		return !d.alpha, w
	case !st.up:
		return false, w
	case st.hasWeight:
		return true, st.weight
	}
	return true, w
}

// advance brings the remembered state to the health state up and runs
// the notify programs of what changed, in keepalived's order: the real
// server's notify_up/notify_down, then the pool's quorum_up/quorum_down
// when the live weight crosses quorum±hysteresis. The first call sets
// the state as keepalived starts (ipwrapper.c, update_quorum_state): a
// pool with its quorum runs quorum_up, one without runs quorum_down only
// when it has a sorry server; no real server's program runs.
func (p *plan) advance(up map[string]targetState) {
	s := p.lvs
	if !s.started {
		s.started = true
		s.alive = make([][]bool, len(p.pools))
		s.quorum = make([]bool, len(p.pools))
		for i := range p.pools {
			pl := &p.pools[i]
			sum := 0
			s.alive[i] = make([]bool, len(pl.dests))
			for j := range pl.dests {
				a, w := pl.dests[j].alive(up)
				s.alive[i][j] = a
				if a {
					sum += w
				}
			}
			s.quorum[i] = sum >= pl.quorum+pl.hyst
			if !s.quorum[i] && pl.sorry != nil {
				p.run(pl.quorumDown)
				p.fifoVS(pl, false)
				p.alertQuorum(pl, false, true, false, pl.quorum+pl.hyst, sum)
			}
			if s.quorum[i] {
				// keepalived gains the quorum it starts with: program,
				// FIFO line and mail.
				p.run(pl.quorumUp)
				p.fifoVS(pl, true)
				p.alertQuorum(pl, true, true, false, pl.quorum+pl.hyst, sum)
			}
		}
		return
	}
	for i := range p.pools {
		pl := &p.pools[i]
		sum := 0
		for j := range pl.dests {
			d := &pl.dests[j]
			a, w := d.alive(up)
			if a != s.alive[i][j] {
				s.alive[i][j] = a
				if a {
					p.run(d.notifyUp)
				} else {
					p.run(d.notifyDown)
				}
				p.fifoRS(pl, d, a)
				p.alertRS(pl, d, a, false)
			}
			if a {
				sum += w
			}
		}
		switch {
		case !s.quorum[i] && sum >= pl.quorum+pl.hyst:
			s.quorum[i] = true
			p.run(pl.quorumUp)
			p.fifoVS(pl, true)
			p.alertQuorum(pl, true, false, false, pl.quorum+pl.hyst, sum)
		case s.quorum[i] && (sum == 0 || sum < pl.quorum-pl.hyst):
			s.quorum[i] = false
			p.run(pl.quorumDown)
			p.fifoVS(pl, false)
			p.alertQuorum(pl, false, false, false, pl.quorum-pl.hyst, sum)
		}
	}
}

// stopping runs what keepalived runs on exit for the pools with omega:
// notify_down of the live real servers, then quorum_down if the quorum
// was up.
func (p *plan) stopping() {
	s := p.lvs
	if !s.started {
		return
	}
	for i := range p.pools {
		pl := &p.pools[i]
		if !pl.omega {
			continue
		}
		for j := range pl.dests {
			if s.alive[i][j] {
				p.run(pl.dests[j].notifyDown)
				p.fifoRS(pl, &pl.dests[j], false)
				p.alertRS(pl, &pl.dests[j], false, true)
			}
		}
		if s.quorum[i] {
			p.run(pl.quorumDown)
			p.fifoVS(pl, false)
			p.alertQuorum(pl, false, false, true, 0, 0)
		}
	}
}

func (p *plan) run(argv []string) {
	switch {
	case len(argv) == 0:
	case p.lvs.notify != nil:
		p.lvs.notify(argv)
	default:
		p.lvs.pending = append(p.lvs.pending, argv)
	}
}

// desired returns the IPVS table the node wants given the health state
// up (by target name), after advancing the remembered state (advance).
// A real server that is down is left out, or kept at weight 0 with
// inhibit_on_failure; one with a dynamic weight (MISC_CHECK) has it.
// While a pool has no quorum and a sorry server, the sorry server is in
// its services (weight 1) and its live real servers are out; with
// sorry_server_inhibit the sorry server stays at weight 0 otherwise.
func (p *plan) desired(up map[string]targetState) *ipvs.Table {
	p.advance(up)
	t := &ipvs.Table{}
	for i := range p.pools {
		pl := &p.pools[i]
		sorryOn := pl.sorry != nil && !p.lvs.quorum[i]
		var dests []ipvs.Destination
		for j := range pl.dests {
			d := pl.dests[j]
			a, w := d.alive(up)
			switch {
			case a && sorryOn:
				continue
			case a:
				d.dest.Weight = uint32(w)
			case d.inhibit:
				d.dest.Weight = 0
			default:
				continue
			}
			dests = append(dests, d.dest)
		}
		if pl.sorry != nil && (sorryOn || pl.sorryInhibit) {
			sd := *pl.sorry
			if !sorryOn {
				sd.Weight = 0
			}
			dests = replaceDest(dests, sd)
		}
		for _, svc := range pl.services {
			v := ipvs.VirtualServer{Service: svc}
			for _, d := range dests {
				if svc.FWMark != 0 || svc.Port == 0 {
					// The client's port is kept (fwmark or all-port services).
				} else if d.Port == 0 {
					d.Port = svc.Port
				}
				v.Destinations = append(v.Destinations, d)
			}
			t.Services = append(t.Services, v)
		}
	}
	return t
}

// replaceDest adds d to ds, in place of a destination with its address
// (a sorry server that is also a real server, as keepalived merges them).
func replaceDest(ds []ipvs.Destination, d ipvs.Destination) []ipvs.Destination {
	for i := range ds {
		if ds[i].Address == d.Address && ds[i].Port == d.Port {
			ds[i] = d
			return ds
		}
	}
	return append(ds, d)
}

// groupServices maps a virtual server standing for a
// virtual_server_group onto its IPVS services.
func groupServices(vs *config.VirtualServer, base ipvs.Service) []ipvs.Service {
	var out []ipvs.Service
	for _, a := range vs.GroupAddrs {
		s := base
		s.FWMark, s.Family = 0, 0
		s.Address, s.Port = a.Addr(), a.Port()
		out = append(out, s)
	}
	for _, m := range vs.GroupFWMarks {
		s := base
		s.Address, s.Port, s.Protocol = netip.Addr{}, 0, 0
		s.FWMark = m
		s.Family = ipvs.IPv4
		for _, rs := range vs.RealServers {
			if rs.Addr.Addr().Is6() {
				s.Family = ipvs.IPv6
			}
		}
		out = append(out, s)
	}
	return out
}
