package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/scaleout"
	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// scaleOut is the -bgp act: three lbnodes announce the VIP by BGP to an
// FRR router, which spreads the flows over them by ECMP; lb3 loses power.
func (d *demo) scaleOut(ctx context.Context) {
	d.say("== 1. The scale-out topology: switch (bridges lan, edge), router (FRR), client, lb1-3, web1-3")
	if !d.record("topology", d.soBuild(ctx), "router 10.0.0.1 (AS 65000), lb1-3 10.0.0.11-13 (AS 65001), client 10.9.0.2") {
		return
	}

	d.say("\n== 2. The three nodes up, each announcing %s by BGP with BFD (ip netns exec router vtysh -c 'show bgp summary')", scaleout.VIP)
	note, err := d.soSessions(ctx)
	if !d.record("sessions", err, note) {
		return
	}

	d.say("\n== 3. The router's ECMP route for the VIP (ip netns exec router ip route show %s)", scaleout.VIP)
	note, err = d.soRoute()
	d.record("ecmp", err, note)

	d.say("\n== 4. 60 new connections from the client to %s, one request each", scaleout.Service)
	note, err = d.soSpread(ctx, 60)
	d.record("spread", err, note)

	d.say("\n== 5. 45 keep-alive connections open, a request a second on each")
	ka, byNode, note, err := d.soKeepAlive()
	if !d.record("keepalive", err, note) {
		return
	}
	defer ka.Stop()

	dead := d.so.Node("lb3")
	d.say("\n== 6. %s loses power: its link is cut, then its lbnode killed (SIGKILL)", dead.Name)
	note, err = d.soPowerLoss(ctx, dead)
	d.record("converge", err, note)

	d.say("\n== 7. The keep-alive connections 5 s later")
	note, err = d.soKept(ctx, ka, byNode, dead)
	d.record("kept", err, note)
}

func (d *demo) soBuild(ctx context.Context) error {
	if why := frr.Available(); why != "" {
		return errors.New(why)
	}
	var err error
	d.so, err = scaleout.Build(ctx, scaleout.Config{LBNode: []string{d.lbnode}, Algo: "mh", Sloppy: true, Named: true})
	if err != nil {
		return err
	}
	d.say("  lan 10.0.0.0/24: router .1, lb1-3 .11-.13, web1-3 .101-.103 (direct routing: the VIP on their lo)")
	d.say("  edge 10.9.0.0/24: router .1, client .2; the router hashes flows on their ports (fib_multipath_hash_policy=1)")
	d.say("  every node: virtual server %s, lb_algo mh over web1-3 in the same order, sloppy_tcp; BGP hold 3 s, BFD 300 ms x 3", scaleout.Service)
	return nil
}

func (d *demo) soSessions(ctx context.Context) (string, error) {
	// Paths that last 3 s: a session just up may still flap.
	at, err := d.so.WaitStablePaths(ctx, 2*time.Minute, 3*time.Second, "lb1", "lb2", "lb3")
	if err != nil {
		return "", fmt.Errorf("%w\n%s", err, d.soLogs())
	}
	up := at.Sub(d.so.Started)
	for _, n := range d.so.Nodes {
		if err := n.Proc.WaitOutput(ctx, "node up"); err != nil {
			return "", err
		}
	}
	d.say("  lb1, lb2, lb3: lbnode up; the router has a path through each %v after they started", up.Round(100*time.Millisecond))
	out, err := d.so.Router.VTY("show bgp summary")
	if err != nil {
		return "", fmt.Errorf("show bgp summary: %v: %s", err, out)
	}
	d.say("%s", indent(bgpSummary(out)))
	established := 0
	for _, n := range d.so.Nodes {
		for _, line := range strings.Split(out, "\n") {
			// An established session shows its prefix counts where
			// another shows its state.
			if f := strings.Fields(line); len(f) > 9 && f[0] == n.Addr.String() && f[9] == "1" {
				established++
			}
		}
	}
	if bfd, err := d.so.Router.VTY("show bfd peers brief"); err == nil {
		d.say("  router's BFD sessions (show bfd peers brief):\n%s", indent(strings.TrimSpace(bfd)))
	}
	note := fmt.Sprintf("3 BGP sessions with BFD, %d with the VIP received; 3 paths %v after the start", established, up.Round(100*time.Millisecond))
	if established != 3 {
		return note, fmt.Errorf("%d of 3 sessions established with the VIP received", established)
	}
	return note, nil
}

// bgpSummary keeps the neighbor table of `show bgp summary`.
func bgpSummary(out string) string {
	var keep []string
	in := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "Neighbor") {
			in = true
		}
		if in && strings.TrimSpace(line) == "" {
			break
		}
		if in {
			keep = append(keep, line)
		}
	}
	if len(keep) == 0 {
		return out
	}
	return strings.Join(keep, "\n")
}

func (d *demo) soRoute() (string, error) {
	route := d.so.Router.Route(scaleout.VIP)
	d.say("%s", indent(route))
	if out, err := d.so.Router.VTY("show ip route " + scaleout.VIP.String()); err == nil {
		d.say("  vtysh -c 'show ip route %s':\n%s", scaleout.VIP, indent(strings.TrimSpace(out)))
	}
	paths, err := d.so.Paths()
	if err != nil {
		return "", err
	}
	note := fmt.Sprintf("%d next hops: %s", len(paths), strings.Join(paths, ", "))
	if len(paths) != 3 {
		return note, errors.New("want 3 next hops: " + note)
	}
	return note, nil
}

func (d *demo) soSpread(ctx context.Context, n int) (string, error) {
	before := make([]int, len(d.so.Nodes))
	for i, nd := range d.so.Nodes {
		c, err := d.so.ServiceConns(nd)
		if err != nil {
			return "", err
		}
		before[i] = c
	}
	webBefore := make([]int64, len(d.so.Web))
	for i, w := range d.so.Web {
		webBefore[i] = w.Requests.Load()
	}
	for i := range n {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if _, err := cluster.HTTPGet(d.so.Client, scaleout.Service, 5*time.Second); err != nil {
			return "", fmt.Errorf("new connection %d: %v", i+1, err)
		}
	}
	// The kernel folds its per-CPU counters into what ipvsadm shows every
	// two seconds.
	after := make([]int, len(d.so.Nodes))
	var err error
	_, _ = topology.WaitFor(ctx, "IPVS counters", 6*time.Second, func() bool {
		sum := 0
		for i, nd := range d.so.Nodes {
			if after[i], err = d.so.ServiceConns(nd); err != nil {
				return true
			}
			sum += after[i] - before[i]
		}
		return sum >= n
	})
	if err != nil {
		return "", err
	}
	var per, idle []string
	for i, nd := range d.so.Nodes {
		per = append(per, fmt.Sprintf("%s %d", nd.Name, after[i]-before[i]))
		if after[i] == before[i] {
			idle = append(idle, nd.Name)
		}
	}
	var webs []string
	for i, w := range d.so.Web {
		webs = append(webs, fmt.Sprintf("%s %d", w.Name, w.Requests.Load()-webBefore[i]))
	}
	d.say("  %d/%d answered", n, n)
	d.say("  scheduled by each node's IPVS (ipvsadm -Ln --stats): %s", strings.Join(per, ", "))
	d.say("  answered by the real servers: %s", strings.Join(webs, ", "))
	d.say("  (mh hashes the source address: one client, one real server, whichever node schedules the flow)")
	note := fmt.Sprintf("%d/%d answered; by node: %s", n, n, strings.Join(per, ", "))
	if len(idle) > 0 {
		return note, fmt.Errorf("%s scheduled none of %d new connections: %s", strings.Join(idle, ", "), n, note)
	}
	return note, nil
}

func (d *demo) soKeepAlive() (*scaleout.KeepAlive, map[int]string, string, error) {
	ka, err := scaleout.StartKeepAlive(d.so.Client, scaleout.Service, 45, 2*time.Minute)
	if err != nil {
		return nil, nil, "", err
	}
	time.Sleep(2 * time.Second)
	byNode := d.so.ConnsByNode()
	count := map[string]int{}
	found := 0
	for _, p := range ka.Ports() {
		if n, ok := byNode[p]; ok {
			count[n]++
			found++
		}
	}
	per := fmt.Sprintf("lb1 %d, lb2 %d, lb3 %d", count["lb1"], count["lb2"], count["lb3"])
	d.say("  45 open, %d requests answered so far; through (each node's ipvsadm -Lnc): %s", ka.Requests(), per)
	note := fmt.Sprintf("45 open: %s", per)
	if f := ka.Failed(); f > 0 {
		ka.Stop()
		return nil, nil, note, fmt.Errorf("%d of 45 keep-alive connections failed before any node died", f)
	}
	if found < 45 {
		d.say("  (%d not found in any node's connection table)", 45-found)
	}
	return ka, byNode, note, nil
}

func (d *demo) soPowerLoss(ctx context.Context, dead *scaleout.Node) (string, error) {
	cut, err := d.so.PowerLoss(dead)
	if err != nil {
		return "", err
	}
	d.say("  %s: lb3's port on the bridge down, then lbnode (pid %d) killed", cut.UTC().Format("15:04:05.000"), dead.Proc.Pid())
	at, err := d.so.WaitPaths(ctx, time.Minute, "lb1", "lb2")
	if err != nil {
		return "", err
	}
	conv := at.Sub(cut)
	d.say("  the router dropped lb3's path %v after the link cut (BFD detects in 3 x 300 ms)", conv.Round(10*time.Millisecond))
	d.say("  route now:\n%s", indent(d.so.Router.Route(scaleout.VIP)))
	d.say("  router: %s", d.so.LastReset(dead))
	if bfd, err := d.so.Router.VTY("show bfd peers brief"); err == nil {
		d.say("  router's BFD sessions:\n%s", indent(strings.TrimSpace(bfd)))
	}
	note := fmt.Sprintf("lb3's path dropped %v after the link cut; ECMP over lb1, lb2", conv.Round(10*time.Millisecond))
	for i := range 10 {
		if _, err := cluster.HTTPGet(d.so.Client, scaleout.Service, 5*time.Second); err != nil {
			return note, fmt.Errorf("new connection %d after the power loss: %v", i+1, err)
		}
	}
	d.say("  10/10 new connections answered after it")
	return note, nil
}

func (d *demo) soKept(ctx context.Context, ka *scaleout.KeepAlive, byNode map[int]string, dead *scaleout.Node) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(5 * time.Second):
	}
	ka.Stop()
	others := ka.Survival(byNode, func(n string) bool { return n != dead.Name })
	ofDead := ka.Survival(byNode, func(n string) bool { return n == dead.Name })
	d.say("  of those through lb1 and lb2: %s kept", others)
	d.say("  of lb3's (moved by the router to lb1 or lb2, whose mh picks the same real server): %s kept", ofDead)
	d.say("  %d requests answered in all", ka.Requests())
	note := fmt.Sprintf("%s of lb1/lb2's, %s of lb3's", others, ofDead)
	if others.Total == 0 || others.Kept*100 < others.Total*95 {
		return note, fmt.Errorf("kept %s of the connections not through the dead node, want at least 95 %%", others)
	}
	return note, nil
}

// soLogs is the router's and the nodes' output, for a failed step.
func (d *demo) soLogs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "router:\n%s", d.so.Router.Output())
	for _, n := range d.so.Nodes {
		fmt.Fprintf(&b, "lbnode on %s:\n%s", n.Name, n.Proc.Output())
	}
	return b.String()
}
