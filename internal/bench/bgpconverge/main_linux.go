package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/agent"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/topology"
)

var (
	vip        = netip.MustParsePrefix("192.168.100.1/32")
	routerAddr = netip.MustParseAddr("10.0.0.1")
)

// node is one announcing node: its namespace, address and what runs its
// speaker.
type node struct {
	name string
	addr netip.Addr
	ns   *topology.NS
	proc *topology.Proc // lvskit
	frr  *frr.Router    // frr
}

func main() {
	speaker := flag.Bool("speaker", false, "internal: run lbnode's BGP speaker (in a node's namespace)")
	addr := flag.String("addr", "", "internal: the speaker's address (router ID)")
	trials := flag.Int("trials", 10, "link cuts per speaker")
	verbose := flag.Bool("v", false, "print every trial")
	flag.Parse()
	if *speaker {
		os.Exit(runSpeaker(*addr))
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bgpconverge: needs root (network namespaces)")
		os.Exit(1)
	}
	if why := frr.Available(); why != "" {
		fmt.Fprintln(os.Stderr, "bgpconverge:", why)
		os.Exit(1)
	}
	if *trials < 1 || *trials > 1000 {
		fmt.Fprintf(os.Stderr, "bgpconverge: -trials %d: not 1-1000\n", *trials)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *trials, *verbose)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bgpconverge:", err)
		os.Exit(1)
	}
	fmt.Printf("router's path drop after a node's link cut (BFD 300 ms x 3, %d trials each; BFD detects 900 ms after the last packet heard):\n", *trials)
	fmt.Printf("%-8s %10s %10s %10s %10s\n", "speaker", "min", "median", "max", "over 1.5s")
	for _, name := range []string{"lvskit", "frr"} {
		ds := res[name]
		over := 0
		for _, d := range ds {
			if d > 1500*time.Millisecond {
				over++
			}
		}
		fmt.Printf("%-8s %s %10s\n", name, stats(ds), fmt.Sprintf("%d/%d", over, len(ds)))
	}
}

// runSpeaker is the lvskit node: lbnode's speaker announcing the VIP to
// the router until SIGTERM.
func runSpeaker(addr string) int {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bgpconverge -speaker: -addr %q: %v\n", addr, err)
		return 2
	}
	b := &config.BGP{ASN: 65001, RouterID: a, WithdrawWait: 0,
		Neighbors: []config.BGPNeighbor{{Address: routerAddr, ASN: 65000, Port: config.DefaultBGPPort, HoldTime: 3 * time.Second,
			BFD: true, BFDInterval: config.DefaultBFDInterval, BFDMultiplier: config.DefaultBFDMultiplier}},
		Announce: []config.BGPAnnounce{{Prefix: vip}}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := agent.RunBGPSpeaker(ctx, b, log); err != nil {
		fmt.Fprintln(os.Stderr, "bgpconverge -speaker:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, trials int, verbose bool) (map[string][]time.Duration, error) {
	tp, err := topology.New("")
	if err != nil {
		return nil, err
	}
	var nodes []*node
	var router *frr.Router
	defer func() {
		for _, n := range nodes {
			if n.proc != nil {
				n.proc.Stop(5 * time.Second)
			}
			if n.frr != nil {
				n.frr.Close()
			}
		}
		if router != nil {
			router.Close()
		}
		tp.Close()
	}()
	if err := tp.Bridge("lan"); err != nil {
		return nil, err
	}
	rns, err := tp.Host("router")
	if err != nil {
		return nil, err
	}
	if err := tp.Connect(rns, "eth0", "lan", routerAddr.String()+"/24"); err != nil {
		return nil, err
	}
	for i, name := range []string{"lvskit", "frr"} {
		n := &node{name: name, addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(11 + i)})}
		if n.ns, err = tp.Host(name); err != nil {
			return nil, err
		}
		if err := tp.Connect(n.ns, "eth0", "lan", n.addr.String()+"/24"); err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	router, err = frr.Start(ctx, rns, frr.Config{ASN: 65000, RouterID: routerAddr, NeighborASN: 65001, BFD: true,
		Neighbors: []netip.Addr{nodes[0].addr, nodes[1].addr}})
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if nodes[0].proc, err = nodes[0].ns.Start(exe, "-speaker", "-addr", nodes[0].addr.String()); err != nil {
		return nil, err
	}
	if nodes[1].frr, err = frr.Start(ctx, nodes[1].ns, frr.Config{ASN: 65001, RouterID: nodes[1].addr, NeighborASN: 65000, BFD: true,
		Neighbors: []netip.Addr{routerAddr}, Networks: []netip.Prefix{vip}}); err != nil {
		return nil, err
	}
	all := []string{nodes[0].addr.String(), nodes[1].addr.String()}
	if err := waitPaths(ctx, router, 2*time.Minute, all); err != nil {
		return nil, fmt.Errorf("both paths: %w", err)
	}
	res := map[string][]time.Duration{}
	for i := range 2 * trials {
		n := nodes[i%2]
		// Let the session settle (the router's BFD session with the node
		// up for 3 s: a session that has just come back may still flap),
		// then cut at a random phase of the 300 ms BFD packets.
		if err := waitBFDUp(ctx, router, n.addr, 3); err != nil {
			return nil, fmt.Errorf("trial %d: %w", i+1, err)
		}
		time.Sleep(rand.N(300 * time.Millisecond))
		cut := time.Now()
		if err := tp.SetPort(n.ns, "eth0", false); err != nil {
			return nil, err
		}
		var gone time.Time
		for time.Since(cut) < 30*time.Second {
			hops, err := router.Paths(vip)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(hops, n.addr) {
				gone = time.Now()
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := tp.SetPort(n.ns, "eth0", true); err != nil {
			return nil, err
		}
		if gone.IsZero() {
			return nil, fmt.Errorf("trial %d: the router kept %s's path 30 s after the cut: %s", i+1, n.name, router.Route(vip))
		}
		d := gone.Sub(cut)
		res[n.name] = append(res[n.name], d)
		if verbose {
			fmt.Printf("trial %2d: %-6s path dropped %v after the cut\n", i+1, n.name, d.Round(time.Millisecond))
		}
		if err := waitPaths(ctx, router, 2*time.Minute, all); err != nil {
			return nil, fmt.Errorf("trial %d: %s's path back: %w", i+1, n.name, err)
		}
	}
	return res, nil
}

// waitBFDUp waits (at most 2 minutes) until the router's BFD session
// with peer has been up for at least secs seconds.
func waitBFDUp(ctx context.Context, r *frr.Router, peer netip.Addr, secs int) error {
	var last string
	_, err := topology.WaitFor(ctx, fmt.Sprintf("the router's BFD session with %s up for %d s", peer, secs), 2*time.Minute, func() bool {
		out, err := r.VTY("show bfd peer " + peer.String() + " json")
		if err != nil {
			return false
		}
		last = out
		var st struct {
			Status string `json:"status"`
			Uptime int    `json:"uptime"`
		}
		return json.Unmarshal([]byte(out), &st) == nil && st.Status == "up" && st.Uptime >= secs
	})
	if err != nil {
		return errors.Join(err, fmt.Errorf("show bfd peer: %s", last))
	}
	return nil
}

// waitPaths waits until the router's next hops for the VIP are want.
func waitPaths(ctx context.Context, r *frr.Router, timeout time.Duration, want []string) error {
	var got []string
	_, err := topology.WaitFor(ctx, "the router's paths "+strings.Join(want, " "), timeout, func() bool {
		hops, err := r.Paths(vip)
		if err != nil {
			return false
		}
		got = got[:0]
		for _, h := range hops {
			got = append(got, h.String())
		}
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	if err != nil {
		return errors.Join(err, fmt.Errorf("route: %s", r.Route(vip)))
	}
	return nil
}

func stats(ds []time.Duration) string {
	if len(ds) == 0 {
		return fmt.Sprintf("%10s %10s %10s", "-", "-", "-")
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
	return fmt.Sprintf("%10s %10s %10s", f(s[0]), f(med), f(s[len(s)-1]))
}
