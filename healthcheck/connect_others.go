//go:build !linux

package healthcheck

import (
	"context"
	"net/netip"
)

// connectOnly has no raw path outside Linux: the caller dials with
// package net.
func (Bind) connectOnly(context.Context, netip.AddrPort) (bool, error) { return false, nil }

// dialUDP connects a UDP socket with package net outside Linux.
func (b Bind) dialUDP(ctx context.Context, addr netip.AddrPort) (udpConn, error) {
	return b.dialNetUDP(ctx, addr)
}
