package config

import (
	"fmt"
	"strings"
)

// summarizePool prints what keepalived runs around a virtual server's
// real servers: its group's services, the quorum, the sorry server and
// the alpha, omega and ha_suspend modes, each only when set otherwise
// than by default.
func summarizePool(w func(indent int, format string, a ...any), vs *VirtualServer) {
	if vs.Group != "" {
		var es []string
		for _, a := range vs.GroupAddrs {
			es = append(es, string(vs.Protocol)+" "+a.String())
		}
		for _, m := range vs.GroupFWMarks {
			es = append(es, fmt.Sprintf("FWM %d", m))
		}
		w(2, "group services: %s", strings.Join(es, ", "))
	}
	if q := max(vs.Quorum, 1); q != 1 || vs.Hysteresis != 0 || len(vs.QuorumUp) > 0 || len(vs.QuorumDown) > 0 {
		line := fmt.Sprintf("quorum %d, hysteresis %d", q, vs.Hysteresis)
		if len(vs.QuorumUp) > 0 {
			line += ", quorum_up " + vs.QuorumUp.String()
		}
		if len(vs.QuorumDown) > 0 {
			line += ", quorum_down " + vs.QuorumDown.String()
		}
		w(2, "%s", line)
	}
	if s := vs.SorryServer; s != nil {
		line := fmt.Sprintf("sorry server %s weight 1 while the quorum is lost", s.Addr)
		if s.Inhibit {
			line += ", weight 0 otherwise"
		}
		w(2, "%s", line)
	}
	var modes []string
	if vs.Alpha {
		modes = append(modes, "alpha (real servers start down)")
	}
	if vs.Omega {
		modes = append(modes, "omega (down programs run on stop)")
	}
	if vs.HASuspend {
		modes = append(modes, "ha_suspend")
	}
	if len(modes) > 0 {
		w(2, "%s", strings.Join(modes, ", "))
	}
}

// summarizeRealServer prints a real server's notify programs, start
// state and delay loop when set.
func summarizeRealServer(w func(indent int, format string, a ...any), rs *RealServer) {
	if len(rs.NotifyUp) > 0 {
		w(3, "notify_up %s", rs.NotifyUp)
	}
	if len(rs.NotifyDown) > 0 {
		w(3, "notify_down %s", rs.NotifyDown)
	}
	if rs.DelayLoop > 0 {
		w(3, "delay_loop %s", fmtDur(rs.DelayLoop))
	}
}
