// Command lbnode is a whole balancer node of the article's cluster: VRRP
// floats the VIP, IPVS spreads the traffic over the nodes' nginx, health
// checks set the real servers' weights, the NAT switch lets a BACKUP accept
// what the MASTER forwards to it, and nginx is configured and reloaded.
//
//	lbnode -f FILE [-check] [-metrics ADDR]
//
// FILE is YAML (.yaml, .yml) or a keepalived.conf (anything else). -check
// validates the file and prints what would be applied, touching nothing.
// SIGHUP reloads the file without a VRRP transition and without touching
// unchanged IPVS entries; SIGTERM and SIGINT stop the node gracefully
// (priority-0 advert and VIPs removed; a node that runs nginx behind its
// NAT switch drains first: it refuses the other balancers' health checks
// and answers what they forward until their checks have taken it out,
// then stops nginx; NAT rule removed, virtual servers removed unless the
// configuration sets dont_release_ipvs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/agent"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/metrics"
	"github.com/lvskit/lvskit/ipvs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lbnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "configuration `FILE`: YAML (.yaml, .yml) or keepalived.conf")
	check := fs.Bool("check", false, "validate FILE, print what would be applied and exit")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on `ADDR` (host:port) at /metrics")
	debug := fs.Bool("debug", false, "log at debug level")
	drain := fs.Duration("drain", -1, "at stop, how long a node that runs nginx behind its NAT switch drains at most; negative: as long as the other balancers' health checks take; 0: no drain")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lbnode -f FILE [-check] [-metrics ADDR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := config.Load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "lbnode: %v\n", err)
		return 1
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	for _, w := range cfg.Warnings {
		log.Warn("configuration", "warning", w.String())
	}
	var health *metrics.Health
	opts := &agent.Options{Logger: log, Drain: *drain}
	switch {
	case *drain < 0:
		opts.Drain = 0 // computed from the configuration
	case *drain == 0:
		opts.Drain = -1
	}
	var a *agent.Agent
	if *metricsAddr != "" {
		health = metrics.NewHealth(func() []metrics.Target {
			var ts []metrics.Target
			for _, t := range a.Health() {
				ts = append(ts, metrics.Target{Name: t.Name, Up: t.Up, Transitions: t.Transitions})
			}
			return ts
		})
		opts.OnCheck = func(o healthcheck.Observation) { health.Observe(o.Target, o.Result.Up, o.Latency) }
	}
	a, err = agent.New(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "lbnode: %v\n", err)
		return 1
	}
	if *check {
		fmt.Fprint(stdout, cfg.Summary())
		fmt.Fprintln(stdout, "ipvs rules (ipvsadm -Sn form):")
		if err := ipvs.WriteRules(stdout, a.DesiredIPVS()); err != nil {
			fmt.Fprintf(stderr, "lbnode: %v\n", err)
			return 1
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *metricsAddr != "" {
		addr, err := metrics.Serve(ctx, *metricsAddr, metrics.NewVRRP(a.VRRPStats), metrics.NewIPVS(a.IPVSTable), metrics.NewBGP(a.BGPMetrics), health)
		if err != nil {
			fmt.Fprintf(stderr, "lbnode: %v\n", err)
			return 1
		}
		log.Info("metrics", "addr", addr.String())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			next, err := config.Load(*file)
			if err == nil {
				err = a.Reload(ctx, next)
			}
			if err != nil {
				log.Error("reload refused; the running configuration stays", "file", *file, "err", err)
			}
		}
	}()
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("lbnode", "err", err)
		return 1
	}
	return 0
}
