package vrrp

import (
	"errors"
	"fmt"
)

// ErrNoAddress is wrapped by a Host's PrimaryAddr when the interface has
// no address to send from. With an AddrWatcher Host, New starts such an
// instance in FAULT until the interface has one, as keepalived does.
var ErrNoAddress = errors.New("no address to send from")

// ErrUnsupported is returned by Open and the other OS entry points on
// systems other than Linux.
var ErrUnsupported = errors.New("vrrp: not supported on this operating system")

// Reason says why a received advertisement was dropped.
type Reason uint8

// Reasons for dropping an advertisement, in the order the checks run.
const (
	ReasonNone     Reason = iota
	ReasonTTL             // IPv4 TTL or IPv6 hop limit is not 255 (multicast)
	ReasonLength          // shorter than its header or address count says
	ReasonVersion         // not the instance's VRRP version
	ReasonType            // not an advertisement
	ReasonChecksum        // checksum does not verify
	ReasonVRID            // no instance with this VRID on the interface
	ReasonAuthType        // authentication type differs from ours (VRRPv2)
	ReasonAuthPass        // password differs from ours
	ReasonInterval        // advertisement interval differs from ours (VRRPv2), or is 0
	ReasonPeer            // unicast mode: source is not a configured peer
	ReasonAddrList        // address list differs and the sender is not the owner
	ReasonSelf            // our own advertisement looped back
	ReasonFamily          // IPv4 packet for an IPv6 instance or the reverse (checked first)
	NumReasons            // number of reasons; size of Stats.Dropped
)

var reasonNames = [NumReasons]string{
	ReasonNone:     "none",
	ReasonTTL:      "ttl",
	ReasonLength:   "length",
	ReasonVersion:  "version",
	ReasonType:     "type",
	ReasonChecksum: "checksum",
	ReasonVRID:     "vrid",
	ReasonAuthType: "auth_type",
	ReasonAuthPass: "auth_pass",
	ReasonInterval: "interval",
	ReasonPeer:     "peer",
	ReasonAddrList: "address_list",
	ReasonSelf:     "self",
	ReasonFamily:   "family",
}

// String returns a short snake_case name, usable as a metric label.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// ValidationError reports a received advertisement that was dropped.
// Got and Want are the offending value and the expected one (both zero for
// ReasonAuthPass, whose values are secret, and ReasonAddrList).
type ValidationError struct {
	Reason    Reason
	Got, Want uint64
}

func (e *ValidationError) Error() string {
	switch e.Reason {
	case ReasonAuthPass:
		return "vrrp: invalid advertisement: auth_pass does not match"
	case ReasonAddrList:
		return "vrrp: invalid advertisement: address list does not match ours"
	case ReasonChecksum:
		return fmt.Sprintf("vrrp: invalid advertisement: checksum 0x%04x, want 0x%04x", e.Got, e.Want)
	case ReasonPeer, ReasonSelf:
		return fmt.Sprintf("vrrp: invalid advertisement: %v: source not accepted", e.Reason)
	}
	return fmt.Sprintf("vrrp: invalid advertisement: %v %d, want %d", e.Reason, e.Got, e.Want)
}

// FieldError reports a value that cannot be encoded or configured. Field
// names the field (a Config field or an advertisement field).
type FieldError struct {
	Field string
	Value string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("vrrp: %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("vrrp: %s %s: %s", e.Field, e.Value, e.Msg)
}
