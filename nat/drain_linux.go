package nat

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Drain refuses the connections to the node's own addresses (the DNAT
// targets, LocalIPv4 and LocalIPv6) on ports that did not come through a
// DNAT rule: TCP with a reset, UDP with an ICMP port unreachable. Traffic
// that the switch's rules redirect, the VIP's traffic that the MASTER
// forwards to this node, is still accepted. Other nodes' health checks of
// this node's servers then fail, so their virtual servers take this node
// out while it still answers what they send it: a node can stop its
// servers afterwards without losing a request. Drain replaces the filter
// chain DefaultDrainChain (input hook) of the switch's tables in one
// atomic batch; Undrain deletes it.
func (s *Switch) Drain(ports []Port) error {
	for _, p := range ports {
		if err := p.validate(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	for _, local := range []netip.Addr{s.cfg.LocalIPv4, s.cfg.LocalIPv6} {
		if !local.IsValid() {
			continue
		}
		fam := familyOf(local)
		t := s.table(fam)
		ch := s.drainChain(fam)
		s.conn.AddTable(t)
		s.conn.AddChain(ch)
		s.conn.FlushChain(ch)
		for _, p := range ports {
			s.conn.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: encodeDrain(local, p)})
		}
	}
	if err := s.conn.Flush(); err != nil {
		return fmt.Errorf("nat: installing the drain chain in table %s: %w", s.cfg.Table, err)
	}
	return nil
}

// Undrain deletes the drain chain; missing tables or chains are skipped.
func (s *Switch) Undrain() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	queued := false
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		ok, err := s.chainNamed(fam, DefaultDrainChain)
		if err != nil {
			return err
		}
		if ok {
			s.conn.DelChain(s.drainChain(fam))
			queued = true
		}
	}
	if !queued {
		return nil
	}
	if err := s.conn.Flush(); err != nil {
		return fmt.Errorf("nat: deleting the drain chain in table %s: %w", s.cfg.Table, err)
	}
	return nil
}

func (s *Switch) drainChain(fam nftables.TableFamily) *nftables.Chain {
	return &nftables.Chain{
		Name:     DefaultDrainChain,
		Table:    s.table(fam),
		Type:     nftables.ChainTypeFilter,
		Hooknum:  nftables.ChainHookInput,
		Priority: nftables.ChainPriorityFilter,
	}
}

// ipsDstNAT is IPS_DST_NAT, the conntrack status bit of a connection whose
// destination was rewritten.
const ipsDstNAT = 1 << 5

// encodeDrain returns the expressions of
// `ip daddr LOCAL tcp dport PORT ct status & dnat == 0 reject with tcp reset`
// (udp: reject, an ICMP port unreachable; ip6 for IPv6):
//
//	[ payload load 4b @ network header + 16 => reg 1 ]
//	[ cmp eq reg 1 LOCAL ]
//	[ meta load l4proto => reg 1 ]
//	[ cmp eq reg 1 PROTO ]
//	[ payload load 2b @ transport header + 2 => reg 1 ]
//	[ cmp eq reg 1 PORT ]
//	[ ct load status => reg 1 ]
//	[ bitwise reg 1 = (reg=1 & dnat) ^ 0 ]
//	[ cmp eq reg 1 0 ]
//	[ reject ]
func encodeDrain(local netip.Addr, p Port) []expr.Any {
	proto := byte(unix.IPPROTO_TCP)
	reject := &expr.Reject{Type: unix.NFT_REJECT_TCP_RST}
	if p.Proto == "udp" {
		proto = unix.IPPROTO_UDP
		reject = &expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 3} // ICMP_PORT_UNREACH
		if local.Is6() {
			reject.Code = 4 // ICMPV6_PORT_UNREACH
		}
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: daddrOffset(local), Len: uint32(local.BitLen() / 8)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: local.AsSlice()},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p.Port)},
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0, 0, 0, 0}},
		reject,
	}
}
