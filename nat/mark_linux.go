package nat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Marker keeps a table that marks what a set of neighbours, known by
// their MAC addresses, send to given addresses and ports:
//
//	table inet lvskit_mark {
//		set sources { type ether_addr; }
//		chain prerouting {
//			type filter hook prerouting priority mangle; policy accept;
//			ether saddr @sources ip daddr 192.168.100.1 tcp dport 80 meta mark set 0x00000001
//		}
//	}
//
// Its methods are safe for concurrent use.
type Marker struct {
	mu     sync.Mutex
	cfg    MarkConfig
	conn   *nftables.Conn
	table  *nftables.Table
	set    *nftables.Set
	closed bool
}

// OpenMarker validates cfg and installs its table, with an empty set of
// sources, in one atomic batch that replaces any table of that name (left
// by a process that was killed, for example). Errors name the field and
// value.
func OpenMarker(cfg *MarkConfig) (*Marker, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	conn, err := nftables.New(nftables.WithNetNSFd(c.NetNS))
	if err != nil {
		return nil, fmt.Errorf("nat: nftables unavailable: %w", err)
	}
	m := &Marker{cfg: c, conn: conn,
		table: &nftables.Table{Name: c.Table, Family: nftables.TableFamilyINet}}
	m.set = &nftables.Set{Table: m.table, Name: "sources", KeyType: nftables.TypeEtherAddr}
	// Adding the table first makes the deletion valid whether or not it
	// exists; the kernel applies the batch as a whole.
	conn.AddTable(m.table)
	conn.DelTable(m.table)
	conn.AddTable(m.table)
	if err := conn.AddSet(m.set, nil); err != nil {
		return nil, fmt.Errorf("nat: set sources: %w", err)
	}
	ch := conn.AddChain(&nftables.Chain{Name: "prerouting", Table: m.table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle})
	for _, r := range c.Rules {
		conn.AddRule(&nftables.Rule{Table: m.table, Chain: ch, Exprs: encodeMark(r, m.set)})
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("nat: installing table inet %s: %w", c.Table, err)
	}
	return m, nil
}

// encodeMark returns the expressions nft generates for the rule:
//
//	[ meta load iiftype => reg 1 ]
//	[ cmp eq reg 1 0x00000001 ]                 (ARPHRD_ETHER)
//	[ payload load 6b @ link header + 6 => reg 1 ]
//	[ lookup reg 1 set sources ]
//	[ meta load nfproto => reg 1 ]
//	[ cmp eq reg 1 0x00000002 ]                 (10 for ip6)
//	[ payload load 4b @ network header + 16 => reg 1 ]   (16b @ + 24 for ip6)
//	[ cmp eq reg 1 DST ]
//	[ meta load l4proto => reg 1 ]
//	[ cmp eq reg 1 PROTO ]
//	[ payload load 2b @ transport header + 2 => reg 1 ]  (with a port)
//	[ cmp eq reg 1 PORT ]
//	[ immediate reg 1 MARK ]
//	[ meta set mark with reg 1 ]
func encodeMark(r MarkRule, set *nftables.Set) []expr.Any {
	nfproto := byte(unix.NFPROTO_IPV4)
	if r.Dst.Is6() {
		nfproto = unix.NFPROTO_IPV6
	}
	e := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFTYPE, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint16(nil, unix.ARPHRD_ETHER)},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
		&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{nfproto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: daddrOffset(r.Dst), Len: uint32(r.Dst.BitLen() / 8)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: r.Dst.AsSlice()},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{markProtos[r.Proto]}},
	}
	if r.Port != 0 {
		e = append(e,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, r.Port)})
	}
	return append(e,
		&expr.Immediate{Register: 1, Data: binary.NativeEndian.AppendUint32(nil, r.Mark)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1})
}

// SetSources makes the set of sources exactly macs, in one atomic batch.
func (m *Marker) SetSources(macs []net.HardwareAddr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errMarkerClosed
	}
	var els []nftables.SetElement
	for i, mac := range macs {
		if err := validMAC(i, mac); err != nil {
			return err
		}
		els = append(els, nftables.SetElement{Key: slices.Clone(mac)})
	}
	m.conn.FlushSet(m.set)
	if len(els) > 0 {
		if err := m.conn.SetAddElements(m.set, els); err != nil {
			return fmt.Errorf("nat: set sources: %w", err)
		}
	}
	if err := m.conn.Flush(); err != nil {
		return fmt.Errorf("nat: set sources of table inet %s: %w", m.cfg.Table, err)
	}
	return nil
}

// Sources lists the set's addresses as the kernel holds them.
func (m *Marker) Sources() ([]net.HardwareAddr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errMarkerClosed
	}
	els, err := m.conn.GetSetElements(m.set)
	if err != nil {
		return nil, fmt.Errorf("nat: listing set sources of table inet %s: %w", m.cfg.Table, err)
	}
	out := make([]net.HardwareAddr, 0, len(els))
	for _, e := range els {
		out = append(out, net.HardwareAddr(slices.Clone(e.Key[:min(len(e.Key), 6)])))
	}
	return out, nil
}

// Close deletes the Marker's table; packets are no longer marked.
func (m *Marker) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.conn.DelTable(m.table)
	if err := m.conn.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("nat: deleting table inet %s: %w", m.cfg.Table, err)
	}
	return nil
}

var errMarkerClosed = errors.New("nat: marker is closed")
