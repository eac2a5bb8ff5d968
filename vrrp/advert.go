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

// Protocol versions understood by the codec.
const (
	Version2 = 2 // RFC 3768
	Version3 = 3 // RFC 5798 / RFC 9568 (IPv4 only)
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
	// MaxAddrs is the largest number of IPv4 addresses one advertisement carries.
	MaxAddrs = 255
	// MaxLen is the length of the largest VRRPv2 advertisement.
	MaxLen = headerLen + 4*MaxAddrs + authDataLen
)

// Advert is a VRRP advertisement. The zero Version means Version2.
//
// For VRRPv2 Interval is a whole number of seconds (1-255 s) and AuthType and
// AuthData are carried. For VRRPv3 Interval is a whole number of centiseconds
// (10 ms - 40.95 s), and there is no authentication.
type Advert struct {
	Version  uint8
	VRID     uint8
	Priority uint8
	AuthType AuthType
	Interval time.Duration
	Addrs    []netip.Addr
	AuthData [8]byte
}

// Pseudo carries the IPv4 source and destination that VRRPv3 folds into its
// checksum. VRRPv2 ignores it; pass the zero value.
type Pseudo struct {
	Src, Dst netip.Addr
}

func (a *Advert) version() uint8 {
	if a.Version == 0 {
		return Version2
	}
	return a.Version
}

// Len reports the length of the marshalled advertisement.
func (a *Advert) Len() int {
	n := headerLen + 4*len(a.Addrs)
	if a.version() == Version2 {
		n += authDataLen
	}
	return n
}

// MarshalTo writes the advertisement, checksum included, to the start of b
// and returns the number of bytes written. It allocates nothing. It returns
// a *FieldError when a field cannot be encoded (version, interval, address
// count or family, short buffer, a VRRPv3 pseudo-header that is not IPv4).
func (a *Advert) MarshalTo(b []byte, ph Pseudo) (int, error) {
	v := a.version()
	if v != Version2 && v != Version3 {
		return 0, &FieldError{Field: "version", Value: strconv.Itoa(int(v)), Msg: "unsupported"}
	}
	if len(a.Addrs) > MaxAddrs {
		return 0, &FieldError{Field: "addresses", Value: strconv.Itoa(len(a.Addrs)), Msg: "more than 255"}
	}
	n := a.Len()
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
		if !ip.Is4() {
			return 0, &FieldError{Field: "addresses", Value: ip.String(), Msg: "not IPv4"}
		}
		a4 := ip.As4()
		copy(b[off:], a4[:])
		off += 4
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
// It returns a *ValidationError whose Reason is ReasonLength, ReasonVersion,
// ReasonType, ReasonChecksum or ReasonInterval.
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
	n := headerLen + 4*count
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
	for off := headerLen; off < headerLen+4*count; off += 4 {
		a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(b[off:off+4])))
	}
	return nil
}

// pseudoSum returns the partial one's-complement sum of the IPv4
// pseudo-header VRRPv3 prepends.
func pseudoSum(ph Pseudo, n int) (uint32, error) {
	if !ph.Src.Is4() || !ph.Dst.Is4() {
		return 0, &FieldError{Field: "pseudo-header", Msg: "VRRPv3 needs IPv4 source and destination"}
	}
	s, d := ph.Src.As4(), ph.Dst.As4()
	var sum uint32
	sum += uint32(s[0])<<8 | uint32(s[1])
	sum += uint32(s[2])<<8 | uint32(s[3])
	sum += uint32(d[0])<<8 | uint32(d[1])
	sum += uint32(d[2])<<8 | uint32(d[3])
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
