package nat

import (
	"bytes"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// familyOf is the table family for a VIP.
func familyOf(vip netip.Addr) nftables.TableFamily {
	if vip.Is6() {
		return nftables.TableFamilyIPv6
	}
	return nftables.TableFamilyIPv4
}

// ifname pads an interface name to IFNAMSIZ bytes, as nft compares exact
// interface names.
func ifname(name string) []byte {
	b := make([]byte, ifNameSize)
	copy(b, name)
	return b
}

// daddrOffset is the offset of the destination address in the network header.
func daddrOffset(vip netip.Addr) uint32 {
	if vip.Is6() {
		return 24
	}
	return 16
}

// encodeRule returns the expressions nft generates for
// `iifname IF ip daddr VIP dnat to TO`:
//
//	[ meta load iifname => reg 1 ]
//	[ cmp eq reg 1 IF (16 bytes, NUL padded) ]
//	[ payload load 4b @ network header + 16 => reg 1 ]   (16b @ + 24 for ip6)
//	[ cmp eq reg 1 VIP ]
//	[ immediate reg 1 TO ]
//	[ nat dnat ip addr_min reg 1 ]                       (ip6 for ip6)
func encodeRule(r Rule) []expr.Any {
	nfproto := uint32(unix.NFPROTO_IPV4)
	if r.VIP.Is6() {
		nfproto = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(r.Interface)},
		&expr.Payload{
			DestRegister: 1,
			Base:         expr.PayloadBaseNetworkHeader,
			Offset:       daddrOffset(r.VIP),
			Len:          uint32(r.VIP.BitLen() / 8),
		},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: r.VIP.AsSlice()},
		&expr.Immediate{Register: 1, Data: r.To.AsSlice()},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: nfproto, RegAddrMin: 1},
	}
}

// decodeRule recognizes the expressions of encodeRule as the kernel lists them
// back for a table of family fam. ok is false for any other rule.
func decodeRule(fam nftables.TableFamily, exprs []expr.Any) (r Rule, ok bool) {
	if len(exprs) != 6 {
		return Rule{}, false
	}
	addrLen, nfproto := 4, uint32(unix.NFPROTO_IPV4)
	if fam == nftables.TableFamilyIPv6 {
		addrLen, nfproto = 16, unix.NFPROTO_IPV6
	} else if fam != nftables.TableFamilyIPv4 {
		return Rule{}, false
	}

	meta, ok := exprs[0].(*expr.Meta)
	if !ok || meta.Key != expr.MetaKeyIIFNAME || meta.SourceRegister || meta.Register != 1 {
		return Rule{}, false
	}
	cmpIf, ok := exprs[1].(*expr.Cmp)
	if !ok || cmpIf.Op != expr.CmpOpEq || cmpIf.Register != 1 || len(cmpIf.Data) != ifNameSize {
		return Rule{}, false
	}
	name, _, _ := bytes.Cut(cmpIf.Data, []byte{0})
	if len(name) == 0 || !bytes.Equal(cmpIf.Data, ifname(string(name))) {
		return Rule{}, false
	}
	pl, ok := exprs[2].(*expr.Payload)
	if !ok || pl.OperationType != expr.PayloadLoad || pl.DestRegister != 1 ||
		pl.Base != expr.PayloadBaseNetworkHeader || pl.Len != uint32(addrLen) || pl.CsumType != 0 {
		return Rule{}, false
	}
	cmpVIP, ok := exprs[3].(*expr.Cmp)
	if !ok || cmpVIP.Op != expr.CmpOpEq || cmpVIP.Register != 1 || len(cmpVIP.Data) != addrLen {
		return Rule{}, false
	}
	vip, _ := netip.AddrFromSlice(cmpVIP.Data)
	if pl.Offset != daddrOffset(vip) {
		return Rule{}, false
	}
	imm, ok := exprs[4].(*expr.Immediate)
	if !ok || imm.Register != 1 || len(imm.Data) != addrLen {
		return Rule{}, false
	}
	to, _ := netip.AddrFromSlice(imm.Data)
	nat, ok := exprs[5].(*expr.NAT)
	// The kernel reports the unset maximum address register as the minimum one.
	if !ok || nat.Type != expr.NATTypeDestNAT || nat.Family != nfproto || nat.RegAddrMin != 1 ||
		(nat.RegAddrMax != 0 && nat.RegAddrMax != 1) || nat.RegProtoMin != 0 || nat.RegProtoMax != 0 ||
		nat.Random || nat.FullyRandom || nat.Persistent || nat.Prefix || nat.Specified {
		return Rule{}, false
	}
	return Rule{Interface: string(name), VIP: vip, To: to}, true
}
