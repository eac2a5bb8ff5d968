package frr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// Bin is where Debian installs FRR's daemons.
const Bin = "/usr/lib/frr"

// Config is the router's BGP side.
type Config struct {
	ASN      uint32
	RouterID netip.Addr
	// Neighbors are the nodes, each of which must be in NeighborASN.
	Neighbors   []netip.Addr
	NeighborASN uint32
	// BFD turns on BFD (FRR's defaults, 300 ms x 3) for every neighbor.
	BFD bool
	// Networks are prefixes this FRR announces itself (a node's VIP, when
	// FRR stands in for a node's speaker), whether or not a route to them
	// exists.
	Networks []netip.Prefix
}

// Router is FRR running in one namespace.
type Router struct {
	NS   *topology.NS
	Dir  string
	cfg  Config
	proc []*topology.Proc
}

// Available reports why FRR cannot run here ("" when it can).
func Available() string {
	for _, d := range []string{"zebra", "bfdd", "bgpd"} {
		if _, err := os.Stat(filepath.Join(Bin, d)); err != nil {
			return "FRR is not installed (" + filepath.Join(Bin, d) + " missing; apt-get install frr)"
		}
	}
	if _, err := exec.LookPath("vtysh"); err != nil {
		return "vtysh is missing (apt-get install frr)"
	}
	if _, err := user.Lookup("frr"); err != nil {
		return "no frr user (apt-get install frr)"
	}
	return ""
}

// Start writes the configuration into a new folder of the frr user's
// (which the frr user can reach: a test's TempDir cannot be) and starts
// zebra, bfdd and bgpd in ns, in that order, each once the previous one's
// socket exists. Close stops them and removes the folder.
func Start(ctx context.Context, ns *topology.NS, cfg Config) (*Router, error) {
	if why := Available(); why != "" {
		return nil, errors.New(why)
	}
	files := map[string]string{
		"zebra.conf": "hostname router\n",
		"bfdd.conf":  "bfd\n",
		"bgpd.conf":  bgpdConf(cfg),
		"vtysh.conf": "",
	}
	dir, err := newDir(files)
	if err != nil {
		return nil, err
	}
	for _, kv := range []string{"net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"} {
		if out, err := ns.Command("sysctl", "-qw", kv).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("router: sysctl %s: %v: %s", kv, err, strings.TrimSpace(string(out)))
		}
	}
	r := &Router{NS: ns, Dir: dir, cfg: cfg}
	if err := r.startDaemons(ctx, []daemon{
		{"zebra", nil, "zserv.api"},
		{"bfdd", []string{"--bfdctl", filepath.Join(dir, "bfdd.sock")}, "bfdd.vty"},
		{"bgpd", nil, "bgpd.vty"},
	}); err != nil {
		return nil, err
	}
	return r, nil
}

// newDir writes files into a new folder of the frr user's (which the frr
// user can reach: a test's TempDir cannot be).
func newDir(files map[string]string) (string, error) {
	u, err := user.Lookup("frr")
	if err != nil {
		return "", err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "lvskit-frr-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		if err := os.Chown(p, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// daemon is one FRR daemon to start: its name, flags beside the common
// ones, and the file in the folder whose presence says it is up.
type daemon struct {
	name  string
	extra []string
	sock  string
}

// startDaemons starts ds in r.NS, in order, each once the previous one's
// socket exists. On failure it closes r.
func (r *Router) startDaemons(ctx context.Context, ds []daemon) error {
	for _, d := range ds {
		args := append([]string{"-f", filepath.Join(r.Dir, d.name+".conf"), "-i", filepath.Join(r.Dir, d.name+".pid"),
			"-z", filepath.Join(r.Dir, "zserv.api"), "--vty_socket", r.Dir, "-u", "frr", "-g", "frr"}, d.extra...)
		p, err := r.NS.Start(filepath.Join(Bin, d.name), args...)
		if err != nil {
			r.Close()
			return fmt.Errorf("router: %s: %w", d.name, err)
		}
		r.proc = append(r.proc, p)
		sock := filepath.Join(r.Dir, d.sock)
		if _, err := topology.WaitFor(ctx, d.name+"'s socket", 90*time.Second, func() bool {
			_, err := os.Stat(sock)
			return err == nil || p.Exited()
		}); err != nil || p.Exited() {
			r.Close()
			return fmt.Errorf("router: %s did not start: %v\n%s", d.name, err, p.Output())
		}
	}
	return nil
}

func bgpdConf(c Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router bgp %d\n bgp router-id %s\n no bgp ebgp-requires-policy\n bgp bestpath as-path multipath-relax\n", c.ASN, c.RouterID)
	for _, n := range c.Neighbors {
		fmt.Fprintf(&b, " neighbor %s remote-as %d\n neighbor %s timers 1 3\n neighbor %s timers connect 1\n", n, c.NeighborASN, n, n)
		if c.BFD {
			fmt.Fprintf(&b, " neighbor %s bfd\n", n)
		}
	}
	if len(c.Networks) > 0 {
		b.WriteString(" no bgp network import-check\n")
	}
	b.WriteString(" address-family ipv4 unicast\n  maximum-paths 8\n")
	for _, p := range c.Networks {
		fmt.Fprintf(&b, "  network %s\n", p)
	}
	b.WriteString(" exit-address-family\n")
	return b.String()
}

// Paths returns the next hops of the router's route to p in its kernel
// table (what zebra installed), in the order ip prints them.
func (r *Router) Paths(p netip.Prefix) ([]netip.Addr, error) {
	out, err := r.NS.Command("ip", "-4", "route", "show", "exact", p.String()).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("router: ip route show %s: %v: %s", p, err, out)
	}
	var hops []netip.Addr
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "via" {
				if a, err := netip.ParseAddr(f[i+1]); err == nil {
					hops = append(hops, a)
				}
			}
		}
	}
	return hops, nil
}

// Route is the text of `ip route show exact p` in the router.
func (r *Router) Route(p netip.Prefix) string {
	out, _ := r.NS.Command("ip", "-4", "route", "show", "exact", p.String()).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// VTY runs one vtysh command against the router's daemons.
func (r *Router) VTY(cmd string) (string, error) {
	out, err := r.NS.Command("vtysh", "--vty_socket", r.Dir, "-c", cmd).CombinedOutput()
	return string(out), err
}

// Output is what the daemons printed.
func (r *Router) Output() string {
	var b strings.Builder
	for _, p := range r.proc {
		fmt.Fprintf(&b, "--- %s\n%s", p.Name(), p.Output())
	}
	return b.String()
}

// Close stops the daemons, bgpd first, and removes their folder.
func (r *Router) Close() {
	for i := len(r.proc) - 1; i >= 0; i-- {
		r.proc[i].Stop(5 * time.Second)
	}
	r.proc = nil
	if r.Dir != "" {
		os.RemoveAll(r.Dir)
		r.Dir = ""
	}
}
