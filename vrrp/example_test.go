package vrrp_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os/signal"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/vrrp"
)

// The article's instance: adverts on eth1, the VIP on eth0, password auth.
func ExampleOpen() {
	cfg := vrrp.Config{
		Interface:    "eth1",
		VRID:         1,
		Priority:     102,
		VIPs:         []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")},
		VIPInterface: "eth0",
		AuthPass:     "secret",
	}
	r, err := vrrp.Open([]vrrp.Config{cfg}, &vrrp.Options{
		OnTransition: func(t vrrp.Transition) {
			log.Printf("%s: %v -> %v (%v)", t.Instance, t.From, t.To, t.Cause)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := r.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// The state machine is pure: time is an argument.
func ExampleMachine() {
	m, err := vrrp.NewMachine(vrrp.Config{
		Interface: "eth1", VRID: 1, Priority: 100,
		VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")},
	}, netip.MustParseAddr("172.16.0.1"))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Step(vrrp.Event{Kind: vrrp.EventStart, Now: now})
	fmt.Println(m.State(), m.Deadline().Sub(now))
	for _, a := range m.Step(vrrp.Event{Kind: vrrp.EventTimer, Now: m.Deadline()}) {
		if a.Kind == vrrp.ActionTransition {
			fmt.Println(a.Transition.From, "->", a.Transition.To, "because", a.Transition.Cause)
		}
	}
	// Output:
	// BACKUP 3.609375s
	// BACKUP -> MASTER because master down timer expired
}
