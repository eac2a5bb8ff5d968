package config

// validateGroup checks a virtual server standing for a
// virtual_server_group.
func validateGroup(vs *VirtualServer, bad func(field, format string, a ...any)) {
	if vs.Addr.IsValid() || vs.FWMark != 0 {
		bad("group", "%s is set together with an address or fwmark", vs.Group)
	}
	if len(vs.GroupAddrs) == 0 && len(vs.GroupFWMarks) == 0 {
		bad("group", "%s has no entries", vs.Group)
	}
	for _, a := range vs.GroupAddrs {
		if a.Port() == 0 && vs.PersistenceTimeout == 0 {
			bad("group", "%s: port 0 (all ports) needs persistence_timeout", a)
		}
	}
}

// validateQuorum checks the quorum settings and the sorry server.
func validateQuorum(vs *VirtualServer, bad func(field, format string, a ...any)) {
	if vs.Quorum < 0 {
		bad("quorum", "%d is not a number above 0", vs.Quorum)
	}
	if vs.Hysteresis < 0 {
		bad("hysteresis", "%d is not a number 0 or above", vs.Hysteresis)
	}
	if s := vs.SorryServer; s != nil {
		if !s.Addr.Addr().IsValid() {
			bad("sorry_server", "address missing")
		} else if vs.Addr.IsValid() && s.Addr.Addr().Is4() != vs.Addr.Addr().Is4() && s.Kind(vs) != LBKindTUN {
			bad("sorry_server", "%s is not of the family of %s", s.Addr.Addr(), vs.Addr.Addr())
		}
	}
	for _, rs := range vs.RealServers {
		if rs.DelayLoop < 0 || rs.DelayLoop > maxDuration {
			bad("real_server "+rs.Addr.String()+": delay_loop", "%s is out of range", rs.DelayLoop)
		}
	}

}

// validateFlags checks the scheduler flags and one-packet scheduling,
// which IPVS applies to UDP only: a service with addresses needs protocol
// UDP for it (keepalived clears it otherwise, ipvsadm refuses it).
func validateFlags(vs *VirtualServer, bad func(field, format string, a ...any)) {
	if f := vs.SchedFlags &^ allSchedFlags; f != 0 {
		bad("sched_flags", "%#x is not a combination of flag-1, flag-2 and flag-3", uint8(vs.SchedFlags))
	}
	addrs := vs.Group == "" && vs.FWMark == 0 || len(vs.GroupAddrs) > 0
	if vs.OnePacket && addrs && vs.Protocol != UDP {
		bad("ops", "one-packet scheduling requires protocol UDP, not %s", vs.Protocol)
	}
}
