package vrrp

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"
)

// ProtocolNumber is the IP protocol number of VRRP.
const ProtocolNumber = 112

// MulticastGroup is the IPv4 multicast group VRRP advertisements are sent to.
var MulticastGroup = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// MulticastGroup6 is the IPv6 multicast group of VRRPv3 advertisements.
var MulticastGroup6 = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12})

// Protocol versions understood by the codec.
const (
	Version2 = 2 // RFC 3768
	Version3 = 3 // RFC 5798 / RFC 9568, IPv4 and IPv6
)

// typeAdvertisement is the only VRRP message type.
const typeAdvertisement = 1

// AuthType is the VRRPv2 authentication type.
type AuthType uint8

// VRRPv2 authentication types.
const (
	AuthNone   AuthType = 0 // no authentication
	AuthSimple AuthType = 1 // simple text password (keepalived's "auth_type PASS")
	AuthAH     AuthType = 2 // IP Authentication Header; decoded, never produced by Router
)

func (t AuthType) String() string {
	switch t {
	case AuthNone:
		return "none"
	case AuthSimple:
		return "simple"
	case AuthAH:
		return "ah"
	}
	return "auth(" + strconv.Itoa(int(t)) + ")"
}

// Header lengths.
const (
	headerLen   = 8 // version/type .. checksum, both versions
	authDataLen = 8 // VRRPv2 trailer
	// MaxAddrs is the largest number of addresses one advertisement carries.
	MaxAddrs = 255
	// MaxLenV2 is the length of the largest VRRPv2 advertisement.
	MaxLenV2 = headerLen + 4*MaxAddrs + authDataLen
	// MaxLen is the length of the largest advertisement, a VRRPv3 one
	// with 255 IPv6 addresses.
	MaxLen = headerLen + 16*MaxAddrs
)

// Advert is a VRRP advertisement. The zero Version means Version2.
//
// For VRRPv2 Interval is a whole number of seconds (1-255 s) and AuthType and
// AuthData are carried; Addrs are IPv4. For VRRPv3 Interval is a whole
// number of centiseconds (10 ms - 40.95 s), there is no authentication, and
// Addrs are of the family of the IP packet (the Pseudo header).
type Advert struct {
	Version  uint8
	VRID     uint8
	Priority uint8
	AuthType AuthType
	Interval time.Duration
	Addrs    []netip.Addr
	AuthData [8]byte
}

// Pseudo carries the IP source and destination that VRRPv3 folds into its
// checksum (the IPv4 pseudo-header of RFC 5798 section 5.2.8, or IPv6's of
// RFC 8200 section 8.1). Both IPv4 or both IPv6; they also give the family
// of the VRRPv3 address list. VRRPv2 ignores it; pass the zero value.
type Pseudo struct {
	Src, Dst netip.Addr
}

// is6 reports whether the pseudo-header is IPv6.
func (ph Pseudo) is6() bool { return ph.Src.Is6() && !ph.Src.Is4In6() }

// addrLen is the length of one address of the advert's family.
func addrLen(v uint8, ph Pseudo) int {
	if v == Version3 && ph.is6() {
		return 16
	}
	return 4
}

func (a *Advert) version() uint8 {
	if a.Version == 0 {
		return Version2
	}
	return a.Version
}

// Len reports the length of the marshalled advertisement: that of its
// addresses' family, IPv6 when the first one is.
func (a *Advert) Len() int {
	al := 4
	if len(a.Addrs) > 0 && a.Addrs[0].Is6() && !a.Addrs[0].Is4In6() {
		al = 16
	}
	n := headerLen + al*len(a.Addrs)
	if a.version() == Version2 {
		n += authDataLen
	}
	return n
}

// MarshalTo writes the advertisement, checksum included, to the start of b
// and returns the number of bytes written. It allocates nothing. It returns
// a *FieldError when a field cannot be encoded (version, interval, address
// count or family, short buffer, a VRRPv3 pseudo-header that is missing or
// mixes families). VRRPv3 addresses must be of the pseudo-header's family.
func (a *Advert) MarshalTo(b []byte, ph Pseudo) (int, error) {
	v := a.version()
	if v != Version2 && v != Version3 {
		return 0, &FieldError{Field: "version", Value: strconv.Itoa(int(v)), Msg: "unsupported"}
	}
	if len(a.Addrs) > MaxAddrs {
		return 0, &FieldError{Field: "addresses", Value: strconv.Itoa(len(a.Addrs)), Msg: "more than 255"}
	}
	al := addrLen(v, ph)
	n := headerLen + al*len(a.Addrs)
	if v == Version2 {
		n += authDataLen
	}
	if len(b) < n {
		return 0, &FieldError{Field: "buffer", Value: strconv.Itoa(len(b)), Msg: "too short for " + strconv.Itoa(n) + " bytes"}
	}
	b[0] = v<<4 | typeAdvertisement
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(len(a.Addrs))
	switch v {
	case Version2:
		if a.Interval%time.Second != 0 || a.Interval < time.Second || a.Interval > 255*time.Second {
			return 0, &FieldError{Field: "interval", Value: a.Interval.String(), Msg: "not a whole number of seconds in 1s-255s"}
		}
		b[4] = uint8(a.AuthType)
		b[5] = uint8(a.Interval / time.Second)
	case Version3:
		cs := a.Interval / (10 * time.Millisecond)
		if a.Interval%(10*time.Millisecond) != 0 || cs < 1 || cs > 0xfff {
			return 0, &FieldError{Field: "interval", Value: a.Interval.String(), Msg: "not a whole number of centiseconds in 10ms-40.95s"}
		}
		binary.BigEndian.PutUint16(b[4:], uint16(cs))
	}
	b[6], b[7] = 0, 0
	off := headerLen
	for _, ip := range a.Addrs {
		switch {
		case al == 4 && ip.Is4():
			a4 := ip.As4()
			copy(b[off:], a4[:])
		case al == 16 && ip.Is6() && !ip.Is4In6():
			a16 := ip.As16()
			copy(b[off:], a16[:])
		default:
			fam := "IPv4"
			if al == 16 {
				fam = "IPv6"
			}
			return 0, &FieldError{Field: "addresses", Value: ip.String(), Msg: "not " + fam + " like the packet"}
		}
		off += al
	}
	var sum uint32
	if v == Version2 {
		copy(b[off:off+authDataLen], a.AuthData[:])
	} else {
		s, err := pseudoSum(ph, n)
		if err != nil {
			return 0, err
		}
		sum = s
	}
	binary.BigEndian.PutUint16(b[6:], finish(sum, b[:n]))
	return n, nil
}

// AppendBinary appends the marshalled advertisement to b. VRRPv2 only; use
// MarshalTo with a Pseudo header for VRRPv3.
func (a *Advert) AppendBinary(b []byte) ([]byte, error) {
	n := a.Len()
	l := len(b)
	b = append(b, make([]byte, n)...)
	if _, err := a.MarshalTo(b[l:], Pseudo{}); err != nil {
		return b[:l], err
	}
	return b, nil
}

// Unmarshal decodes an advertisement from b, reusing the capacity of
// a.Addrs. Bytes after the advertisement (Ethernet padding) are ignored.
// A VRRPv3 advertisement needs the packet's Pseudo header: its checksum
// covers it, and its family says whether the addresses are IPv4 or IPv6.
// It returns a *ValidationError whose Reason is ReasonLength, ReasonVersion,
// ReasonType, ReasonChecksum or ReasonInterval, or a *FieldError for a
// VRRPv3 advertisement without a valid Pseudo header.
func (a *Advert) Unmarshal(b []byte, ph Pseudo) error {
	if len(b) < headerLen {
		return &ValidationError{Reason: ReasonLength, Got: uint64(len(b)), Want: headerLen}
	}
	v := b[0] >> 4
	if v != Version2 && v != Version3 {
		return &ValidationError{Reason: ReasonVersion, Got: uint64(v), Want: Version2}
	}
	if t := b[0] & 0x0f; t != typeAdvertisement {
		return &ValidationError{Reason: ReasonType, Got: uint64(t), Want: typeAdvertisement}
	}
	count := int(b[3])
	al := addrLen(v, ph)
	n := headerLen + al*count
	if v == Version2 {
		n += authDataLen
	}
	if len(b) < n {
		return &ValidationError{Reason: ReasonLength, Got: uint64(len(b)), Want: uint64(n)}
	}
	var sum uint32
	if v == Version3 {
		s, err := pseudoSum(ph, n)
		if err != nil {
			return err
		}
		sum = s
	}
	if c := finish(sum, b[:n]); c != 0 {
		got := binary.BigEndian.Uint16(b[6:])
		return &ValidationError{Reason: ReasonChecksum, Got: uint64(got), Want: uint64(checksumWith(sum, b[:n], got))}
	}
	var iv time.Duration
	if v == Version2 {
		iv = time.Duration(b[5]) * time.Second
	} else {
		iv = time.Duration(binary.BigEndian.Uint16(b[4:])&0xfff) * 10 * time.Millisecond
	}
	if iv == 0 {
		return &ValidationError{Reason: ReasonInterval, Got: 0, Want: 1}
	}
	a.Version = v
	a.VRID = b[1]
	a.Priority = b[2]
	a.Interval = iv
	a.AuthType = 0
	a.AuthData = [8]byte{}
	if v == Version2 {
		a.AuthType = AuthType(b[4])
		copy(a.AuthData[:], b[n-authDataLen:n])
	}
	a.Addrs = a.Addrs[:0]
	for off := headerLen; off < headerLen+al*count; off += al {
		if al == 4 {
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(b[off:off+4])))
		} else {
			a.Addrs = append(a.Addrs, netip.AddrFrom16([16]byte(b[off:off+16])))
		}
	}
	return nil
}

// pseudoSum returns the partial one's-complement sum of the IPv4 or IPv6
// pseudo-header VRRPv3 prepends: source, destination, protocol 112 and the
// VRRP length (IPv4: zero byte, protocol, 16-bit length; IPv6: 32-bit
// length, three zero bytes, next header). Both orders give the same sum.
func pseudoSum(ph Pseudo, n int) (uint32, error) {
	var s, d []byte
	switch {
	case ph.Src.Is4() && ph.Dst.Is4():
		s4, d4 := ph.Src.As4(), ph.Dst.As4()
		s, d = s4[:], d4[:]
	case ph.is6() && ph.Dst.Is6() && !ph.Dst.Is4In6():
		s16, d16 := ph.Src.As16(), ph.Dst.As16()
		s, d = s16[:], d16[:]
	default:
		return 0, &FieldError{Field: "pseudo-header", Value: ph.Src.String() + " > " + ph.Dst.String(), Msg: "VRRPv3 needs an IPv4 or IPv6 source and destination of one family"}
	}
	var sum uint32
	for i := 0; i < len(s); i += 2 {
		sum += uint32(s[i])<<8 | uint32(s[i+1])
		sum += uint32(d[i])<<8 | uint32(d[i+1])
	}
	sum += ProtocolNumber
	sum += uint32(n)
	return sum, nil
}

// finish folds b into the partial sum and returns the one's complement.
func finish(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// checksumWith reports the checksum b should carry, given that its checksum
// field currently holds got.
func checksumWith(sum uint32, b []byte, got uint16) uint16 {
	// Remove got from the sum: sum over b with the field zeroed.
	c := ^finish(sum, b) // folded sum including got
	s := uint32(c) + uint32(^got)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func itoa(n int) string { return strconv.Itoa(n) }
