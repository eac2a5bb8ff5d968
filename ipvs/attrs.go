package ipvs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/mdlayher/netlink"
)

// Generic netlink commands of the IPVS family.
const (
	cmdNewService = 1
	cmdSetService = 2
	cmdDelService = 3
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdDelDest    = 7
	cmdGetDest    = 8
	cmdNewDaemon  = 9
	cmdDelDaemon  = 10
	cmdGetDaemon  = 11
	cmdSetConfig  = 12
	cmdGetConfig  = 13
	cmdSetInfo    = 14
	cmdGetInfo    = 15
	cmdZero       = 16
	cmdFlush      = 17
)

// Top-level attributes.
const (
	attrService    = 1
	attrDest       = 2
	attrDaemon     = 3
	attrTimeoutTCP = 4
	attrTimeoutFin = 5
	attrTimeoutUDP = 6
)

// Service attributes.
const (
	svcAF        = 1
	svcProtocol  = 2
	svcAddr      = 3
	svcPort      = 4
	svcFWMark    = 5
	svcSchedName = 6
	svcFlags     = 7
	svcTimeout   = 8
	svcNetmask   = 9
	svcStats     = 10
	svcPEName    = 11
	svcStats64   = 12
)

// Destination attributes.
const (
	dstAddr         = 1
	dstPort         = 2
	dstFwdMethod    = 3
	dstWeight       = 4
	dstUThresh      = 5
	dstLThresh      = 6
	dstActiveConns  = 7
	dstInactConns   = 8
	dstPersistConns = 9
	dstStats        = 10
	dstAddrFamily   = 11
	dstStats64      = 12
	dstTunType      = 13
	dstTunPort      = 14
	dstTunFlags     = 15
)

// Daemon attributes.
const (
	dmnState      = 1
	dmnMcastIfn   = 2
	dmnSyncID     = 3
	dmnSyncMaxLen = 4
	dmnMcastGroup = 5
	dmnMcastGrp6  = 6
	dmnMcastPort  = 7
	dmnMcastTTL   = 8
)

// Stats attributes.
const (
	statConns    = 1
	statInPkts   = 2
	statOutPkts  = 3
	statInBytes  = 4
	statOutBytes = 5
	statCPS      = 6
	statInPPS    = 7
	statOutPPS   = 8
	statInBPS    = 9
	statOutBPS   = 10
)

// Info attributes.
const (
	infoVersion  = 1
	infoConnTab  = 2
	maxSchedName = 15
	maxIfName    = 15
)

// nest writes a nested attribute the way the kernel and ipvsadm do: without
// the NLA_F_NESTED flag.
func nest(ae *netlink.AttributeEncoder, typ uint16, fn func(*netlink.AttributeEncoder)) {
	inner := netlink.NewAttributeEncoder()
	fn(inner)
	b, err := inner.Encode()
	if err != nil {
		panic("ipvs: encoding nested attribute: " + err.Error()) // only fixed-size values are encoded
	}
	ae.Bytes(typ, b)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func addrBytes(a netip.Addr, f Family) []byte {
	a = a.Unmap()
	if f == IPv4 && a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// validateService checks what the kernel would reject with a bare EINVAL,
// so that the error names the field.
func validateService(s Service, full bool) error {
	f := s.Fam()
	if f != IPv4 && f != IPv6 {
		return fmt.Errorf("ipvs: service %v: invalid family %d", s, f)
	}
	if s.FWMark == 0 {
		if !s.Address.IsValid() {
			return fmt.Errorf("ipvs: service %v: no address and no fwmark", s)
		}
		if familyOf(s.Address) != f {
			return fmt.Errorf("ipvs: service %v: address %v is not %v", s, s.Address, f)
		}
		switch s.Protocol {
		case TCP, UDP, SCTP:
		default:
			return fmt.Errorf("ipvs: service %v: invalid protocol %d", s, s.Protocol)
		}
	}
	if !full {
		return nil
	}
	if len(s.scheduler()) > maxSchedName {
		return fmt.Errorf("ipvs: service %v: scheduler name %q longer than %d bytes", s, s.Scheduler, maxSchedName)
	}
	if len(s.PersistenceEngine) > maxSchedName {
		return fmt.Errorf("ipvs: service %v: persistence engine name %q longer than %d bytes", s, s.PersistenceEngine, maxSchedName)
	}
	max := 32
	if f == IPv6 {
		max = 128
	}
	if s.Netmask < 0 || s.Netmask > max {
		return fmt.Errorf("ipvs: service %v: netmask /%d out of range 1..%d", s, s.Netmask, max)
	}
	return nil
}

// encodeService writes the SERVICE attribute: the identity, and with full the
// settings that NEW_SERVICE and SET_SERVICE require.
func encodeService(ae *netlink.AttributeEncoder, s Service, full bool) {
	nest(ae, attrService, func(ae *netlink.AttributeEncoder) {
		f := s.Fam()
		ae.Uint16(svcAF, uint16(f))
		if s.FWMark != 0 {
			ae.Uint32(svcFWMark, s.FWMark)
		} else {
			ae.Uint16(svcProtocol, uint16(s.Protocol))
			ae.Bytes(svcAddr, addrBytes(s.Address, f))
			ae.Bytes(svcPort, be16(s.Port))
		}
		if !full {
			return
		}
		ae.String(svcSchedName, s.scheduler())
		if s.PersistenceEngine != "" {
			ae.String(svcPEName, s.PersistenceEngine)
		}
		flags := make([]byte, 8)
		binary.NativeEndian.PutUint32(flags[0:], uint32(s.Flags&userFlags))
		binary.NativeEndian.PutUint32(flags[4:], 0xffffffff)
		ae.Bytes(svcFlags, flags)
		ae.Uint32(svcTimeout, s.Timeout)
		ae.Bytes(svcNetmask, netmaskBytes(f, s.netmaskBits()))
	})
}

// netmaskBytes encodes the persistence netmask: the mask itself in network
// order for IPv4, the prefix length as a host-order u32 for IPv6.
func netmaskBytes(f Family, bitsLen int) []byte {
	if f == IPv6 {
		return binary.NativeEndian.AppendUint32(nil, uint32(bitsLen))
	}
	var m uint32
	if bitsLen > 0 {
		m = ^uint32(0) << (32 - bitsLen)
	}
	return binary.BigEndian.AppendUint32(nil, m)
}

func validateDestination(s Service, d Destination) error {
	if !d.Address.IsValid() {
		return fmt.Errorf("ipvs: destination of %v: no address", s)
	}
	if familyOf(d.Address) != d.Fam() {
		return fmt.Errorf("ipvs: destination %v of %v: address is not %v", d.Address, s, d.Fam())
	}
	if d.Forward > Bypass {
		return fmt.Errorf("ipvs: destination %v of %v: invalid forwarding method %d", d.Address, s, d.Forward)
	}
	if d.Fam() != s.Fam() && d.Forward != Tunnel {
		return fmt.Errorf("ipvs: destination %v of %v: a different address family needs tunnel forwarding", d.Address, s)
	}
	if d.TunnelType > TunnelGRE {
		return fmt.Errorf("ipvs: destination %v of %v: invalid tunnel type %d", d.Address, s, d.TunnelType)
	}
	if d.TunnelFlags > TunnelRemoteChecksum {
		return fmt.Errorf("ipvs: destination %v of %v: invalid tunnel flags %d", d.Address, s, d.TunnelFlags)
	}
	return nil
}

// encodeDestination writes the DEST attribute; with full the settings that
// NEW_DEST and SET_DEST require.
func encodeDestination(ae *netlink.AttributeEncoder, s Service, d Destination, full bool) {
	nest(ae, attrDest, func(ae *netlink.AttributeEncoder) {
		f := d.Fam()
		ae.Uint16(dstAddrFamily, uint16(f))
		ae.Bytes(dstAddr, addrBytes(d.Address, f))
		ae.Bytes(dstPort, be16(d.port(s)))
		if !full {
			return
		}
		ae.Uint32(dstFwdMethod, uint32(d.Forward))
		ae.Uint32(dstWeight, d.Weight)
		ae.Uint8(dstTunType, uint8(d.TunnelType))
		ae.Bytes(dstTunPort, be16(d.TunnelPort))
		ae.Uint16(dstTunFlags, uint16(d.TunnelFlags))
		ae.Uint32(dstUThresh, d.UpperThreshold)
		ae.Uint32(dstLThresh, d.LowerThreshold)
	})
}

func encodeDaemon(ae *netlink.AttributeEncoder, d Daemon, full bool) {
	nest(ae, attrDaemon, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(dmnState, uint32(d.State))
		if !full {
			return
		}
		ae.String(dmnMcastIfn, d.Interface)
		ae.Uint32(dmnSyncID, d.SyncID)
		if d.MaxLen != 0 {
			ae.Uint16(dmnSyncMaxLen, d.MaxLen)
		}
		if d.Port != 0 {
			ae.Uint16(dmnMcastPort, d.Port)
		}
		if d.TTL != 0 {
			ae.Uint8(dmnMcastTTL, d.TTL)
		}
		if g := d.Group.Unmap(); g.Is4() {
			b := g.As4()
			ae.Bytes(dmnMcastGroup, b[:])
		} else if g.Is6() {
			b := g.As16()
			ae.Bytes(dmnMcastGrp6, b[:])
		}
	})
}

// decodeAddr reads an address attribute: 4 or 16 bytes; the kernel returns
// IPv4 addresses in 16 bytes, the address in the first 4.
func decodeAddr(b []byte, f Family) (netip.Addr, error) {
	switch {
	case len(b) == 4:
		return netip.AddrFrom4([4]byte(b)), nil
	case len(b) == 16 && f == IPv4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), nil
	}
	return netip.Addr{}, fmt.Errorf("address of %d bytes", len(b))
}

func decodeService(b []byte) (Service, error) {
	var s Service
	var addr, netmask []byte
	var have64 bool
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return s, fmt.Errorf("ipvs: decoding service: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case svcAF:
			s.Family = Family(ad.Uint16())
		case svcProtocol:
			s.Protocol = Protocol(ad.Uint16())
		case svcAddr:
			addr = ad.Bytes()
		case svcPort:
			p := ad.Bytes()
			if len(p) != 2 {
				return s, fmt.Errorf("ipvs: decoding service: port of %d bytes", len(p))
			}
			s.Port = binary.BigEndian.Uint16(p)
		case svcFWMark:
			s.FWMark = ad.Uint32()
		case svcSchedName:
			s.Scheduler = ad.String()
		case svcFlags:
			f := ad.Bytes()
			if len(f) != 8 {
				return s, fmt.Errorf("ipvs: decoding service: flags of %d bytes", len(f))
			}
			s.Flags = ServiceFlags(binary.NativeEndian.Uint32(f))
		case svcTimeout:
			s.Timeout = ad.Uint32()
		case svcNetmask:
			netmask = ad.Bytes()
		case svcPEName:
			s.PersistenceEngine = ad.String()
		case svcStats:
			if !have64 {
				ad.Nested(decodeStats(&s.Stats, false))
			}
		case svcStats64:
			have64 = true
			ad.Nested(decodeStats(&s.Stats, true))
		}
	}
	if err := ad.Err(); err != nil {
		return s, fmt.Errorf("ipvs: decoding service: %w", err)
	}
	if s.Family != IPv4 && s.Family != IPv6 {
		return s, fmt.Errorf("ipvs: decoding service: family %d", s.Family)
	}
	if s.FWMark != 0 {
		s.Protocol = 0 // the kernel reports a protocol for fwmark services; it is not part of their identity
	} else if addr != nil {
		a, err := decodeAddr(addr, s.Family)
		if err != nil {
			return s, fmt.Errorf("ipvs: decoding service: %w", err)
		}
		s.Address = a
	}
	if netmask != nil {
		if len(netmask) != 4 {
			return s, fmt.Errorf("ipvs: decoding service: netmask of %d bytes", len(netmask))
		}
		if s.Family == IPv6 {
			s.Netmask = int(binary.NativeEndian.Uint32(netmask))
		} else {
			s.Netmask = bits.LeadingZeros32(^binary.BigEndian.Uint32(netmask))
		}
	}
	return s, nil
}

func decodeStats(st *Stats, wide bool) func(*netlink.AttributeDecoder) error {
	return func(ad *netlink.AttributeDecoder) error {
		*st = Stats{}
		for ad.Next() {
			t := ad.Type()
			if t < statConns || t > statOutBPS {
				continue // padding or unknown
			}
			var v uint64
			if wide || t == statInBytes || t == statOutBytes {
				v = ad.Uint64()
			} else {
				v = uint64(ad.Uint32())
			}
			switch t {
			case statConns:
				st.Conns = v
			case statInPkts:
				st.InPackets = v
			case statOutPkts:
				st.OutPackets = v
			case statInBytes:
				st.InBytes = v
			case statOutBytes:
				st.OutBytes = v
			case statCPS:
				st.CPS = v
			case statInPPS:
				st.InPPS = v
			case statOutPPS:
				st.OutPPS = v
			case statInBPS:
				st.InBPS = v
			case statOutBPS:
				st.OutBPS = v
			}
		}
		return nil
	}
}

func decodeDestination(b []byte, svcFamily Family) (Destination, error) {
	var d Destination
	var addr []byte
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return d, fmt.Errorf("ipvs: decoding destination: %w", err)
	}
	var have64 bool
	for ad.Next() {
		switch ad.Type() {
		case dstAddr:
			addr = ad.Bytes()
		case dstPort:
			p := ad.Bytes()
			if len(p) != 2 {
				return d, fmt.Errorf("ipvs: decoding destination: port of %d bytes", len(p))
			}
			d.Port = binary.BigEndian.Uint16(p)
		case dstFwdMethod:
			d.Forward = ForwardMethod(ad.Uint32() & 7)
		case dstWeight:
			d.Weight = ad.Uint32()
		case dstUThresh:
			d.UpperThreshold = ad.Uint32()
		case dstLThresh:
			d.LowerThreshold = ad.Uint32()
		case dstActiveConns:
			d.ActiveConns = ad.Uint32()
		case dstInactConns:
			d.InactiveConns = ad.Uint32()
		case dstPersistConns:
			d.PersistentConns = ad.Uint32()
		case dstAddrFamily:
			d.Family = Family(ad.Uint16())
		case dstStats:
			if !have64 {
				ad.Nested(decodeStats(&d.Stats, false))
			}
		case dstStats64:
			have64 = true
			ad.Nested(decodeStats(&d.Stats, true))
		case dstTunType:
			d.TunnelType = TunnelType(ad.Uint8())
		case dstTunPort:
			p := ad.Bytes()
			if len(p) != 2 {
				return d, fmt.Errorf("ipvs: decoding destination: tunnel port of %d bytes", len(p))
			}
			d.TunnelPort = binary.BigEndian.Uint16(p)
		case dstTunFlags:
			d.TunnelFlags = TunnelFlags(ad.Uint16())
		}
	}
	if err := ad.Err(); err != nil {
		return d, fmt.Errorf("ipvs: decoding destination: %w", err)
	}
	if d.Family == 0 {
		d.Family = svcFamily
	}
	a, err := decodeAddr(addr, d.Family)
	if err != nil {
		return d, fmt.Errorf("ipvs: decoding destination: %w", err)
	}
	d.Address = a
	return d, nil
}

func decodeDaemon(b []byte) (Daemon, error) {
	var d Daemon
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return d, fmt.Errorf("ipvs: decoding daemon: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case dmnState:
			d.State = DaemonState(ad.Uint32())
		case dmnMcastIfn:
			d.Interface = ad.String()
		case dmnSyncID:
			d.SyncID = ad.Uint32()
		case dmnSyncMaxLen:
			d.MaxLen = ad.Uint16()
		case dmnMcastGroup:
			if g := ad.Bytes(); len(g) == 4 {
				d.Group = netip.AddrFrom4([4]byte(g))
			}
		case dmnMcastGrp6:
			if g := ad.Bytes(); len(g) == 16 {
				d.Group = netip.AddrFrom16([16]byte(g))
			}
		case dmnMcastPort:
			d.Port = ad.Uint16()
		case dmnMcastTTL:
			d.TTL = ad.Uint8()
		}
	}
	if err := ad.Err(); err != nil {
		return d, fmt.Errorf("ipvs: decoding daemon: %w", err)
	}
	return d, nil
}

func decodeInfo(b []byte) (Info, error) {
	var in Info
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return in, fmt.Errorf("ipvs: decoding info: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case infoVersion:
			in.Version = ad.Uint32()
		case infoConnTab:
			in.ConnTableSize = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return in, fmt.Errorf("ipvs: decoding info: %w", err)
	}
	return in, nil
}

func decodeTimeouts(b []byte) (Timeouts, error) {
	var t Timeouts
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return t, fmt.Errorf("ipvs: decoding timeouts: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case attrTimeoutTCP:
			t.TCP = ad.Uint32()
		case attrTimeoutFin:
			t.TCPFin = ad.Uint32()
		case attrTimeoutUDP:
			t.UDP = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return t, fmt.Errorf("ipvs: decoding timeouts: %w", err)
	}
	return t, nil
}
