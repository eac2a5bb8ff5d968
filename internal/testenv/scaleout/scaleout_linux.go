package scaleout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// Config says how to build the topology.
type Config struct {
	// LBNode is the command that runs lbnode: the program and any
	// arguments before "-f FILE", such as
	// {"env", "LVSKIT_LBNODE_MAIN=1", os.Args[0]} for a test binary that
	// stands in for lbnode.
	LBNode []string
	// Algo is the IPVS scheduler of every node's virtual server ("mh").
	Algo string
	// Sloppy sets net.ipv4.vs.sloppy_tcp on every node.
	Sloppy bool
	// Colocated makes the nodes each other's real servers, as in the
	// two-node design: no webN hosts, each lbN serving "Hello from lbN !"
	// on its own address, with [ColocatedYAML]'s configuration (Algo and
	// Sloppy are then ignored).
	Colocated bool
	// Named calls the namespaces exactly "switch", "router", "client",
	// "lb1".."lb3" and "web1".."web3" (for the demo: `ip netns exec
	// router ip route` works); otherwise they get unique random names.
	Named bool
}

// Node is one lbnode.
type Node struct {
	Name string // "lb1"
	Addr netip.Addr
	NS   *topology.NS
	// Conf is the node's configuration file.
	Conf string
	// Proc is the running lbnode, set by [Cluster.StartNode].
	Proc *topology.Proc
}

// Cluster is the scale-out topology with its router, real servers and
// nodes running.
type Cluster struct {
	Topology *topology.Topology
	Router   *frr.Router
	Client   *topology.NS
	Nodes    []*Node
	Web      []*cluster.WebServer
	// Started is when the first node was started.
	Started time.Time

	cfg   Config
	dir   string
	mu    sync.Mutex
	procs []*topology.Proc // every lbnode started
}

// Build creates the topology, starts the real servers and the router,
// writes every node's configuration (see [NodeYAML]) and starts the three
// lbnodes. It does not wait for their sessions: see [Cluster.WaitPaths].
// On error everything built so far is removed.
func Build(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if len(cfg.LBNode) == 0 {
		return nil, errors.New("scaleout: Config.LBNode is empty")
	}
	if cfg.Algo == "" && !cfg.Colocated {
		return nil, errors.New("scaleout: Config.Algo is empty")
	}
	var tp *topology.Topology
	if cfg.Named {
		tp, err = topology.NewExact("")
	} else {
		tp, err = topology.New("")
	}
	if err != nil {
		return nil, err
	}
	c = &Cluster{Topology: tp, cfg: cfg}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	for _, br := range []string{"lan", "edge"} {
		if err := tp.Bridge(br); err != nil {
			return nil, err
		}
	}
	r, err := tp.Host("router")
	if err != nil {
		return nil, err
	}
	if err := tp.Connect(r, "eth0", "lan", RouterAddr.String()+"/24"); err != nil {
		return nil, err
	}
	if err := tp.Connect(r, "eth1", "edge", "10.9.0.1/24"); err != nil {
		return nil, err
	}
	if c.Client, err = tp.Host("client"); err != nil {
		return nil, err
	}
	if err := tp.Connect(c.Client, "eth0", "edge", ClientAddr.String()+"/24"); err != nil {
		return nil, err
	}
	if _, err := run(c.Client, "ip", "route", "add", "default", "via", "10.9.0.1"); err != nil {
		return nil, err
	}
	// The router and the client share a kernel, and a packet keeps the
	// flow hash its socket gave it across the veth pairs: the router's
	// ECMP uses that hash (fib_multipath_hash skips the ports when the
	// packet has an L4 hash), and the client's TCP draws a new one on
	// each retransmission timeout (net.core.txrehash), so that a
	// retransmitted SYN or segment could go to another node, which a
	// router hashing the ports of a remote client's packets never does.
	if err := sysctls(c.Client, "net.core.txrehash=0"); err != nil {
		return nil, err
	}
	for i := 1; i <= webs && !cfg.Colocated; i++ {
		if err := c.addWeb(i); err != nil {
			return nil, err
		}
	}
	var neighbors []netip.Addr
	for i := 1; i <= nodes; i++ {
		neighbors = append(neighbors, nodeAddr(i))
	}
	c.Router, err = frr.Start(ctx, r, frr.Config{ASN: 65000, RouterID: RouterAddr, NeighborASN: 65001, BFD: true, Neighbors: neighbors})
	if err != nil {
		return nil, err
	}
	if c.dir, err = os.MkdirTemp("", "lvskit-scaleout-"); err != nil {
		return nil, err
	}
	c.Started = time.Now()
	for i := 1; i <= nodes; i++ {
		n := &Node{Name: fmt.Sprintf("lb%d", i), Addr: nodeAddr(i)}
		if n.NS, err = tp.Host(n.Name); err != nil {
			return nil, err
		}
		if err := sysctls(n.NS, "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"); err != nil {
			return nil, err
		}
		if err := tp.Connect(n.NS, "eth0", "lan", n.Addr.String()+"/24"); err != nil {
			return nil, err
		}
		conf := NodeYAML(n.Name, n.Addr, cfg.Algo, cfg.Sloppy)
		if cfg.Colocated {
			conf = ColocatedYAML(n.Name, n.Addr)
			if err := c.serveWeb(n.NS, n.Name, n.Addr); err != nil {
				return nil, err
			}
		}
		n.Conf = filepath.Join(c.dir, n.Name+".yaml")
		if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
		if err := c.StartNode(n); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// addWeb creates webI: a direct-routing real server with the VIP on its
// loopback, answering "Hello from webI !" on port 80.
func (c *Cluster) addWeb(i int) error {
	h, err := c.Topology.Host(fmt.Sprintf("web%d", i))
	if err != nil {
		return err
	}
	if err := sysctls(h, "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"); err != nil {
		return err
	}
	if err := c.Topology.Connect(h, "eth0", "lan", webAddr(i).String()+"/24"); err != nil {
		return err
	}
	if _, err := run(h, "ip", "addr", "add", VIP.String(), "dev", "lo"); err != nil {
		return err
	}
	return c.serveWeb(h, fmt.Sprintf("web%d", i), webAddr(i))
}

// serveWeb gives h a default route via the router, for its answers to
// the client, and a web server on port 80 answering "Hello from name !".
func (c *Cluster) serveWeb(h *topology.NS, name string, addr netip.Addr) error {
	if _, err := run(h, "ip", "route", "add", "default", "via", RouterAddr.String()); err != nil {
		return err
	}
	w := &cluster.WebServer{Name: name, Addr: netip.AddrPortFrom(addr, 80)}
	var l net.Listener
	if err := h.Do(func() (err error) { l, err = net.Listen("tcp4", ":80"); return err }); err != nil {
		return fmt.Errorf("%s: listening on :80: %w", h.Name, err)
	}
	w.Serve(l)
	c.Web = append(c.Web, w)
	return nil
}

// StartNode starts lbnode on n with its configuration file; Close stops
// it.
func (c *Cluster) StartNode(n *Node) error {
	args := append(slices.Clone(c.cfg.LBNode[1:]), "-f", n.Conf)
	p, err := n.NS.Start(c.cfg.LBNode[0], args...)
	if err != nil {
		return err
	}
	n.Proc = p
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return nil
}

// Node returns the node called name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// PowerLoss cuts n's link (its port on the bridge goes down) and then
// kills its lbnode (SIGKILL), as a power loss does, and returns when the
// link was cut.
func (c *Cluster) PowerLoss(n *Node) (time.Time, error) {
	cut := time.Now()
	if err := c.Topology.SetPort(n.NS, "eth0", false); err != nil {
		return cut, err
	}
	if err := n.Proc.Signal(syscall.SIGKILL); err != nil {
		return cut, err
	}
	return cut, nil
}

// Paths returns the router's next hops for the VIP, as node names, sorted.
func (c *Cluster) Paths() ([]string, error) {
	hops, err := c.Router.Paths(VIP)
	if err != nil {
		return nil, err
	}
	return c.names(hops), nil
}

func (c *Cluster) names(hops []netip.Addr) []string {
	var names []string
	for _, h := range hops {
		for _, n := range c.Nodes {
			if n.Addr == h {
				names = append(names, n.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// WaitPaths waits (at most timeout, polling every 20 ms) until the
// router's next hops for the VIP are the nodes called want, sorted, and
// returns when it saw them.
func (c *Cluster) WaitPaths(ctx context.Context, timeout time.Duration, want ...string) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		got, err := c.Paths()
		if err != nil {
			return time.Time{}, err
		}
		if slices.Equal(got, want) {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	got, _ := c.Paths()
	return time.Time{}, fmt.Errorf("the router's paths are %v after %v, want %v; route: %s", got, timeout, want, c.Router.Route(VIP))
}

// WaitStablePaths is WaitPaths, then waits until the next hops have been
// want for hold without a change, starting over when they change (a BGP
// or BFD session just up may still flap); it returns when they were
// first seen in the run that lasted.
func (c *Cluster) WaitStablePaths(ctx context.Context, timeout, hold time.Duration, want ...string) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		at, err := c.WaitPaths(ctx, time.Until(deadline), want...)
		if err != nil {
			return time.Time{}, err
		}
		stable := true
		for time.Since(at) < hold {
			got, err := c.Paths()
			if err != nil {
				return time.Time{}, err
			}
			if !slices.Equal(got, want) {
				stable = false
				break
			}
			select {
			case <-ctx.Done():
				return time.Time{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if stable {
			return at, nil
		}
		if time.Now().After(deadline) {
			got, _ := c.Paths()
			return time.Time{}, fmt.Errorf("the router's paths did not stay %v for %v within %v (now %v); route: %s", want, hold, timeout, got, c.Router.Route(VIP))
		}
	}
}

var ipvsConnRe = regexp.MustCompile(`(?m)^TCP\s+\S+\s+(\S+)\s+` + regexp.QuoteMeta(ClientAddr.String()) + `:(\d+)\s+`)

// ConnsByNode maps the client's source ports to the node whose IPVS has an
// established connection entry for them. Nodes whose lbnode has exited, or
// whose table cannot be read, are left out.
func (c *Cluster) ConnsByNode() map[int]string {
	out := map[int]string{}
	for _, n := range c.Nodes {
		if n.Proc == nil || n.Proc.Exited() {
			continue
		}
		o, err := n.NS.Command("ipvsadm", "-Lnc").CombinedOutput()
		if err != nil {
			continue
		}
		for _, m := range ipvsConnRe.FindAllStringSubmatch(string(o), -1) {
			if m[1] != "ESTABLISHED" {
				continue
			}
			port, _ := strconv.Atoi(m[2])
			out[port] = n.Name
		}
	}
	return out
}

var ipvsEntryRe = regexp.MustCompile(`(?m)^TCP\s+\S+\s+\S+\s+` + regexp.QuoteMeta(ClientAddr.String()) + `:(\d+)\s+`)

// EntriesByPort maps the client's source ports to the nodes whose IPVS has
// a connection entry for them, in any state, in node order: a connection
// that more than one node scheduled has more than one. Nodes whose lbnode
// has exited, or whose table cannot be read, are left out.
func (c *Cluster) EntriesByPort() map[int][]string {
	out := map[int][]string{}
	for _, n := range c.Nodes {
		if n.Proc == nil || n.Proc.Exited() {
			continue
		}
		o, err := n.NS.Command("ipvsadm", "-Lnc").CombinedOutput()
		if err != nil {
			continue
		}
		for _, m := range ipvsEntryRe.FindAllStringSubmatch(string(o), -1) {
			port, _ := strconv.Atoi(m[1])
			if !slices.Contains(out[port], n.Name) {
				out[port] = append(out[port], n.Name)
			}
		}
	}
	return out
}

// ServiceConns is the number of connections n's IPVS scheduled for the
// VIP's service (ipvsadm --stats).
func (c *Cluster) ServiceConns(n *Node) (int, error) {
	o, err := run(n.NS, "ipvsadm", "-Ln", "--stats", "-t", Service.String())
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(o, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "TCP" {
			v, _ := strconv.Atoi(f[2])
			return v, nil
		}
	}
	return 0, fmt.Errorf("%s: no service in ipvsadm --stats:\n%s", n.Name, o)
}

// LastReset is the router's word on why its session with n last went
// down.
func (c *Cluster) LastReset(n *Node) string {
	out, err := c.Router.VTY("show bgp neighbors " + n.Addr.String())
	if err != nil {
		return err.Error()
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Last reset") {
			return strings.TrimSpace(line)
		}
	}
	return "none"
}

// StopNodes stops every lbnode started (SIGTERM, then SIGKILL after
// 10 s), all at once, by PID.
func (c *Cluster) StopNodes() {
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.Stop(10 * time.Second) })
	}
	wg.Wait()
}

// Close stops the lbnodes, the router and the real servers, and removes
// the namespaces and the configuration files.
func (c *Cluster) Close() error {
	c.StopNodes()
	if c.Router != nil {
		c.Router.Close()
	}
	for _, w := range c.Web {
		w.Close()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
	return c.Topology.Close()
}

func run(ns *topology.NS, name string, args ...string) (string, error) {
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s %s: %v: %s", ns.Name, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func sysctls(ns *topology.NS, kvs ...string) error {
	for _, kv := range kvs {
		if _, err := run(ns, "sysctl", "-qw", kv); err != nil {
			return err
		}
	}
	return nil
}

// ClientRetrans is what the client's TCP retransmitted so far, for logs:
// SYNs, segments, and the flow hashes it drew anew on a timeout
// (/proc/net/netstat and /proc/net/snmp).
func (c *Cluster) ClientRetrans() string {
	out, err := run(c.Client, "cat", "/proc/net/snmp", "/proc/net/netstat")
	if err != nil {
		return err.Error()
	}
	want := []string{"TCPSynRetrans", "RetransSegs", "TcpTimeoutRehash"}
	got := map[string]string{}
	lines := strings.Split(out, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || len(names) != len(values) || names[0] != values[0] {
			continue
		}
		for j, n := range names {
			if slices.Contains(want, n) {
				got[n] = values[j]
			}
		}
	}
	var b strings.Builder
	for _, n := range want {
		fmt.Fprintf(&b, "%s %s ", n, cmp.Or(got[n], "?"))
	}
	return strings.TrimSpace(b.String())
}
