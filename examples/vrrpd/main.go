// Command vrrpd is a VRRP-only speaker, like keepalived's VRRP side:
//
//	vrrpd -interface IF -vrid N -priority N -vip CIDR[,CIDR] [-vip-interface IF]
//	      [-advert-int 1s] [-auth-pass PASS] [-nopreempt] [-preempt-delay D]
//	      [-unicast-src IP -unicast-peer IP[,IP]] [-track-interface IF[,IF]]
//	      [-garp-repeat N] [-garp-delay D] [-garp-refresh D] [-notify PROG]
//	      [-metrics ADDR]
//
// It logs each transition. -notify PROG runs PROG INSTANCE NAME STATE
// PRIORITY on each transition, as keepalived does (STATE is BACKUP, MASTER,
// FAULT or STOP), without a shell, one at a time in transition order, each
// killed after 30 s. -metrics ADDR serves the counters in the Prometheus
// text format at /metrics: lvskit_vrrp_state{state}, adverts_sent_total,
// adverts_received_total, priority_zero_{sent,received}_total,
// adverts_dropped_total{reason}, transitions_total, became_master_total,
// garp_sent_total, send_errors_total (labels instance and vrid). Durations
// take Go syntax (1s, 500ms) or a bare number of seconds. -garp-delay 0
// means no second burst.
//
// On SIGTERM or SIGINT a MASTER sends a priority 0 advertisement, the VIPs
// are removed and vrrpd exits 0. Bad flags (VRID or priority outside 1-255,
// a password over 8 bytes, a VIP that is not IPv4, an unknown interface, an
// interval that is not a whole number of seconds, ...) exit 2 with a message
// naming the flag. It needs root (CAP_NET_RAW, CAP_NET_ADMIN); run it in a
// network namespace with "ip netns exec NS vrrpd ...".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/metrics"
	"github.com/lvskit/lvskit/internal/notify"
	"github.com/lvskit/lvskit/vrrp"
)

// usageError is a bad command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

type options struct {
	cfg     vrrp.Config
	notify  string
	metrics string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("vrrpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		iface     = fs.String("interface", "", "interface for the advertisements (required)")
		vrid      = fs.Int("vrid", 0, "virtual router ID, 1-255 (required)")
		prio      = fs.Int("priority", vrrp.DefaultPriority, "priority, 1-255 (255: address owner)")
		vips      = fs.String("vip", "", "virtual IPv4 addresses with prefix length, comma separated (required)")
		vipIface  = fs.String("vip-interface", "", "interface for the VIPs (default -interface)")
		advInt    = durationFlag(fs, "advert-int", time.Second, "advertisement interval, whole seconds (1s, or 1)")
		authPass  = fs.String("auth-pass", "", "simple password authentication, at most 8 bytes")
		nopreempt = fs.Bool("nopreempt", false, "do not preempt a lower-priority master")
		pDelay    = durationFlag(fs, "preempt-delay", 0, "delay before preempting a lower-priority master")
		uSrc      = fs.String("unicast-src", "", "unicast mode: source address of the adverts")
		uPeers    = fs.String("unicast-peer", "", "unicast mode: peer addresses, comma separated")
		track     = fs.String("track-interface", "", "interfaces whose failure means FAULT, comma separated")
		garpRep   = fs.Int("garp-repeat", vrrp.DefaultGARPRepeat, "gratuitous ARPs per VIP in each burst")
		garpDelay = durationFlag(fs, "garp-delay", vrrp.DefaultGARPDelay, "delay of the second gratuitous ARP burst (0: none)")
		garpRef   = durationFlag(fs, "garp-refresh", 0, "period of gratuitous ARP refresh while MASTER (0: none)")
		notify    = fs.String("notify", "", "program run as PROG INSTANCE NAME STATE PRIORITY on each transition")
		metrics   = fs.String("metrics", "", "serve Prometheus metrics on this address at /metrics")
	)
	if err := fs.Parse(args); err != nil {
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if *iface == "" {
		return nil, usagef("-interface is required")
	}
	if *vrid < 1 || *vrid > 255 {
		return nil, usagef("-vrid %d: must be 1-255", *vrid)
	}
	if *prio < 1 || *prio > 255 {
		return nil, usagef("-priority %d: must be 1-255", *prio)
	}
	if *vips == "" {
		return nil, usagef("-vip is required")
	}
	o := &options{notify: *notify, metrics: *metrics}
	c := &o.cfg
	c.Interface, c.VRID, c.Priority, c.VIPInterface = *iface, uint8(*vrid), uint8(*prio), *vipIface
	for _, s := range strings.Split(*vips, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil || !p.Addr().Is4() {
			return nil, usagef("-vip %q: not an IPv4 address with prefix length (such as 192.168.0.100/24)", s)
		}
		c.VIPs = append(c.VIPs, p)
	}
	if *advInt <= 0 || *advInt%time.Second != 0 || *advInt > 255*time.Second {
		return nil, usagef("-advert-int %v: must be a whole number of seconds, 1s-255s", *advInt)
	}
	c.AdvertInterval = *advInt
	if len(*authPass) > 8 {
		return nil, usagef("-auth-pass: %d bytes, at most 8", len(*authPass))
	}
	c.AuthPass = *authPass
	c.NoPreempt = *nopreempt
	if *pDelay < 0 {
		return nil, usagef("-preempt-delay %v: negative", *pDelay)
	}
	c.PreemptDelay = *pDelay
	if *uSrc != "" {
		a, err := netip.ParseAddr(*uSrc)
		if err != nil || !a.Is4() {
			return nil, usagef("-unicast-src %q: not an IPv4 address", *uSrc)
		}
		c.UnicastSrc = a
	}
	if *uPeers != "" {
		for _, s := range strings.Split(*uPeers, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil || !a.Is4() || a.IsMulticast() || a.IsUnspecified() {
				return nil, usagef("-unicast-peer %q: not a unicast IPv4 address", s)
			}
			c.UnicastPeers = append(c.UnicastPeers, a)
		}
	}
	if c.UnicastSrc.IsValid() && len(c.UnicastPeers) == 0 {
		return nil, usagef("-unicast-src needs -unicast-peer")
	}
	if *track != "" {
		for _, s := range strings.Split(*track, ",") {
			if s = strings.TrimSpace(s); s == "" {
				return nil, usagef("-track-interface %q: empty interface name", *track)
			}
			c.TrackInterfaces = append(c.TrackInterfaces, s)
		}
	}
	if *garpRep < 1 || *garpRep > 255 {
		return nil, usagef("-garp-repeat %d: must be 1-255", *garpRep)
	}
	c.GARPRepeat = *garpRep
	switch {
	case *garpDelay < 0:
		return nil, usagef("-garp-delay %v: negative", *garpDelay)
	case *garpDelay == 0:
		c.GARPDelay = -1 // no second burst
	default:
		c.GARPDelay = *garpDelay
	}
	if *garpRef < 0 {
		return nil, usagef("-garp-refresh %v: negative", *garpRef)
	}
	c.GARPRefresh = *garpRef
	if _, err := c.Normalize(); err != nil {
		return nil, usagef("%v", err)
	}
	// Interfaces must exist; checked here so that the message names the flag.
	for _, f := range []struct{ flag, name string }{{"-interface", c.Interface}, {"-vip-interface", c.VIPInterface}} {
		if f.name == "" {
			continue
		}
		if _, err := net.InterfaceByName(f.name); err != nil {
			return nil, usagef("%s %q: no such interface", f.flag, f.name)
		}
	}
	for _, n := range c.TrackInterfaces {
		if _, err := net.InterfaceByName(n); err != nil {
			return nil, usagef("-track-interface %q: no such interface", n)
		}
	}
	if o.notify != "" {
		if _, err := exec.LookPath(o.notify); err != nil {
			return nil, usagef("-notify %q: not an executable program", o.notify)
		}
	}
	return o, nil
}

// seconds is a duration flag that also takes a bare number of seconds, as
// keepalived.conf writes them ("advert_int 1").
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }

func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		*s = seconds(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a duration (such as 1s or 500ms) or a number of seconds")
	}
	*s = seconds(d)
	return nil
}

func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := seconds(def)
	fs.Var(&d, name, usage)
	return (*time.Duration)(&d)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "vrrpd:", err)
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	n := notify.New(30*time.Second, log, nil)
	onTransition := func(t vrrp.Transition) {
		if o.notify != "" {
			n.Enqueue(append([]string{o.notify}, notify.KeepalivedArgs(t.Instance, t.To.String(), int(t.Priority))...))
		}
	}
	r, err := vrrp.Open([]vrrp.Config{o.cfg}, &vrrp.Options{Logger: log, OnTransition: onTransition})
	if err != nil {
		var fe *vrrp.FieldError
		if errors.As(err, &fe) {
			fmt.Fprintln(stderr, "vrrpd:", flagFor(fe), err)
			return 2
		}
		fmt.Fprintln(stderr, "vrrpd:", err)
		return 1
	}
	defer r.Close()

	if o.metrics != "" {
		if _, err := metrics.Serve(ctx, o.metrics, metrics.NewVRRP(r.Stats)); err != nil {
			fmt.Fprintf(stderr, "vrrpd: -metrics %q: %v\n", o.metrics, err)
			return 2
		}
	}
	runErr := r.Run(ctx)
	n.Close(60 * time.Second)
	if runErr != nil {
		fmt.Fprintln(stderr, "vrrpd:", runErr)
		return 1
	}
	return 0
}

// flagFor names the flag behind a configuration field.
func flagFor(fe *vrrp.FieldError) string {
	switch fe.Field {
	case "Interface":
		return "-interface:"
	case "VIPInterface":
		return "-vip-interface:"
	case "TrackInterfaces":
		return "-track-interface:"
	}
	return ""
}
