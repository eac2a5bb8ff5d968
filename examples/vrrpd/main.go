// Command vrrpd is a VRRP-only speaker, like keepalived's VRRP side:
//
//	vrrpd -interface IF -vrid N -priority N -vip CIDR[,CIDR] [-vip-interface IF]
//	      [-version 2|3] [-advert-int 1s] [-auth-pass PASS] [-nopreempt]
//	      [-preempt-delay D] [-unicast-src IP] [-unicast-peer IP[,IP]]
//	      [-mcast-group IP] [-track-interface IF[,IF]] [-garp-repeat N]
//	      [-garp-delay D] [-garp-refresh D] [-notify PROG] [-metrics ADDR]
//	      [-rt-priority N]
//
// VIPs are IPv4 or IPv6 (not both in one instance); an IPv6 instance speaks
// VRRPv3 to ff02::12 from the interface's link-local address and sends
// unsolicited neighbour advertisements where IPv4 sends gratuitous ARPs.
// With -version 3, -advert-int takes centiseconds (10ms to 40.95s).
//
// -rt-priority N (1-99) runs vrrpd under the SCHED_RR real-time policy, as
// keepalived's vrrp_rt_priority does: on a busy host, 10 ms adverts need it
// (see vrrp.SetRealtimePriority; notify programs inherit it).
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
// means no second burst. The instance's flags are those of vrrp.Flags.
//
// On SIGTERM or SIGINT a MASTER sends a priority 0 advertisement, the VIPs
// are removed and vrrpd exits 0. Bad flags (VRID or priority outside 1-255,
// a password over 8 bytes or with version 3, VIPs of both families, an unknown
// interface, an interval that is not a whole number of seconds for version 2
// or of centiseconds for version 3, ...) exit 2 with a message
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
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/metrics"
	"github.com/lvskit/lvskit/internal/notify"
	"github.com/lvskit/lvskit/vrrp"
)

type options struct {
	cfg     vrrp.Config
	notify  string
	metrics string
	rtPrio  int
}

// parseFlags returns the options of a command line, or an error for
// stderr: a command line that is not valid exits 2.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("vrrpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vf := vrrp.NewFlags(fs)
	o := &options{}
	fs.StringVar(&o.notify, "notify", "", "program run as PROG INSTANCE NAME STATE PRIORITY on each transition")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on this address at /metrics")
	fs.Func("rt-priority", "run under SCHED_RR at this real-time priority, 1-99 (default: normal scheduling)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 99 {
			return errors.New("must be 1-99")
		}
		o.rtPrio = n
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.cfg, err = vf.Config(); err != nil {
		return nil, flagError(err)
	}
	if o.notify != "" {
		if _, err := exec.LookPath(o.notify); err != nil {
			return nil, fmt.Errorf("-notify %q: not an executable program", o.notify)
		}
	}
	return o, nil
}

// flagError prefixes a configuration error with the flag behind it.
func flagError(err error) error {
	var fe *vrrp.FieldError
	if errors.As(err, &fe) && vrrp.FlagName(fe.Field) != "" {
		return fmt.Errorf("%s: %w", vrrp.FlagName(fe.Field), err)
	}
	return err
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
	if o.rtPrio > 0 {
		if err := vrrp.SetRealtimePriority(o.rtPrio); err != nil {
			fmt.Fprintf(stderr, "vrrpd: -rt-priority %d: %v\n", o.rtPrio, err)
			return 1
		}
	}
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
		fmt.Fprintln(stderr, "vrrpd:", flagError(err))
		if errors.As(err, new(*vrrp.FieldError)) {
			return 2 // such as an interface that does not exist
		}
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
