//go:build tools

// Package deps pins the modules the packages of lvskit are built on while
// they are being written, so that go mod tidy keeps them.
package deps

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/nftables"
	_ "github.com/mdlayher/arp"
	_ "github.com/mdlayher/ethernet"
	_ "github.com/mdlayher/genetlink"
	_ "github.com/mdlayher/genetlink/genltest"
	_ "github.com/mdlayher/netlink"
	_ "github.com/mdlayher/netlink/nltest"
	_ "github.com/mdlayher/packet"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/net/dns/dnsmessage"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/sys/unix"
)
