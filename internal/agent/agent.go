package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/notify"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/proxyconf"
	"github.com/lvskit/lvskit/vrrp"
)

// Options tune an Agent. A nil *Options means defaults.
type Options struct {
	// Logger receives the agent's structured logs; default: discarded.
	Logger *slog.Logger
	// ProcSys is where sysctls are written; default /proc/sys.
	ProcSys string
	// KeepIPVS leaves the virtual servers in the kernel when the agent
	// stops, as does the configuration's global dont_release_ipvs. By
	// default they are removed, as keepalived does.
	KeepIPVS bool
	// NotifyTimeout bounds each notify program; default 10 s.
	NotifyTimeout time.Duration
	// OnTransition, if set, is called for every VRRP transition after the
	// agent has acted on it. It must not block.
	OnTransition func(vrrp.Transition)
	// OnHealth, if set, is called for every health event after the agent
	// has acted on it. It must not block.
	OnHealth func(healthcheck.Event)
	// OnCheck, if set, is called after every health-check attempt (for
	// latency metrics). It must not block.
	OnCheck func(healthcheck.Observation)
	// Env replaces parts of the system the agent works on; the zero Env
	// is the real system.
	Env Env
	// Drain bounds how long a stopping node that runs nginx behind a NAT
	// switch drains before it stops nginx: its own address refuses the
	// other balancers' health checks while it still answers the traffic
	// they forward, until their checks have taken it out. 0 means the
	// time their checks take with this node's configuration (at most a
	// minute); negative, no drain.
	Drain time.Duration
}

// Agent is one balancer node. Create it with New and start it with Run.
type Agent struct {
	opts Options
	env  Env // opts.Env with defaults
	log  *slog.Logger

	reload chan reloadReq
	// retrack gives the tracking the configuration of a reload.
	retrack chan *config.Config

	mu     sync.Mutex
	cfg    *config.Config
	vrrp   map[string][]vrrp.Config
	plan   *plan
	health map[string]targetState
	// ha follows the addresses for ha_suspend (nil: no virtual server
	// sets it).
	ha *haWatch
	// fileValues are the values of the files that real servers check
	// (FILE_CHECK), by track_file name.
	fileValues map[string]int64
	states     map[string]vrrp.State
	routers    map[string]*vrrp.Router // by advertisement interface
	ipvs       *ipvs.Client
	repairs    uint64
	lastSync   time.Time
	// lvsOrigTimeouts are the kernel's IPVS timeouts from before
	// lvs_timeouts first set them (nil: not set); see lvsglobals.go.
	lvsOrigTimeouts *ipvs.Timeouts
	// pace is when a round of health checks of the drift interval was
	// due (Unix ns; 0: none yet): the delay-loop comparison is timed to
	// those rounds, so that it shares their wake.
	pace atomic.Int64
	// paceEvery is the drift interval, read by the monitor's goroutine.
	paceEvery atomic.Int64
	// transitions counts health transitions by target.
	transitions map[string]uint64
	// syncd drives the IPVS connection sync daemons (nil: none); used
	// by Run's goroutine only.
	syncd *syncDaemons
	// bgp announces the VIPs of the bgp section (nil: none).
	bgp *bgpSpeaker
	// bgpMark marks what the routers send to the announced prefixes
	// (nil: the bgp section marks nothing).
	bgpMark *bgpMarker
	// mail sends the alert e-mails (nil: none).
	mail *mailer
	// openIP opens the kernel's addresses, routes and rules (default:
	// the agent's network namespace's); ip and ipk are the static and
	// virtual ones and that handle while running (nil: none), used by
	// Run's goroutine only.
	openIP func() (ipKernel, error)
	ip     *ipConfig
	ipk    ipKernel
}

type reloadReq struct {
	cfg  *config.Config
	done chan error
}

// New checks that cfg maps onto the packages and returns an agent for it.
// Nothing is touched until Run.
func New(cfg *config.Config, opts *Options) (*Agent, error) {
	a := &Agent{reload: make(chan reloadReq), retrack: make(chan *config.Config, 1), states: map[string]vrrp.State{}, health: map[string]targetState{}, transitions: map[string]uint64{}}
	if opts != nil {
		a.opts = *opts
	}
	if a.opts.ProcSys == "" {
		a.opts.ProcSys = "/proc/sys"
	}
	a.env = a.opts.Env.withDefaults()
	a.openIP = openIPKernel
	a.log = a.opts.Logger
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if a.vrrp, err = vrrpConfigs(cfg); err != nil {
		return nil, err
	}
	if a.plan, err = ipvsPlan(cfg); err != nil {
		return nil, err
	}
	if cfg.Nginx != nil {
		if err := proxyConfig(cfg.Nginx, proxyconf.DebianStreamModule).Validate(); err != nil {
			return nil, fmt.Errorf("nginx: %w", err)
		}
	}
	a.cfg = cfg
	return a, nil
}

// nginxPrefix is the folder of the node's nginx.
func nginxPrefix(cfg *config.Config) string {
	if cfg.Nginx.Prefix != "" {
		return cfg.Nginx.Prefix
	}
	id := cfg.Global.RouterID
	if id == "" {
		id = "node"
	}
	return filepath.Join("/run/lvskit", "nginx-"+id)
}

// natInstance is the VRRP instance whose state drives the NAT switch.
func natInstance(cfg *config.Config) string {
	if cfg.NAT == nil {
		return ""
	}
	if cfg.NAT.Instance != "" {
		return cfg.NAT.Instance
	}
	if len(cfg.VRRP) == 1 {
		return cfg.VRRP[0].Name
	}
	return ""
}

// Run brings the node up and keeps it so until ctx is done, then stops it
// gracefully: a priority-0 advert and the VIPs removed; where it runs
// nginx behind a NAT switch, drained (see Options.Drain) before nginx
// stops; the NAT rule removed, the virtual servers removed unless
// Options.KeepIPVS or the configuration's dont_release_ipvs. Errors while starting are returned at
// once, with what was started undone.
func (a *Agent) Run(ctx context.Context) (err error) {
	a.mu.Lock()
	cfg := a.cfg
	a.mu.Unlock()
	log := a.log

	// keepalived's startup_script before anything starts, its
	// shutdown_script (as last reloaded) after everything stopped (this
	// defer runs last).
	a.runStartStopScript("startup", cfg.Global.StartupScript, log)
	defer a.runShutdownScript(log)

	if err := a.applySysctls(cfg.Sysctls); err != nil {
		return err
	}
	// What was started is undone in reverse order at the end; a step
	// that takes long is logged, so that a slow stop says where it spent
	// its time.
	type stop struct {
		name string
		fn   func()
	}
	var stops []stop
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			t0 := time.Now()
			stops[i].fn()
			if d := time.Since(t0); d > slowStopStep && stops[i].name != "drain" { // the drain logs its own time
				log.Warn("stopping: slow step", "step", stops[i].name, "took", d.Round(time.Millisecond))
			}
		}
	}()

	// Static addresses, routes and rules first, as keepalived adds them
	// before its instances run; they go last. The stop also removes the
	// virtual routes and rules of an instance still MASTER.
	if ipc := newIPConfig(cfg); !ipc.empty() {
		k, err := a.openIP()
		if err != nil {
			return fmt.Errorf("static and virtual routes: %w", err)
		}
		if err := ipc.static.apply(k, log); err != nil {
			k.Close()
			return fmt.Errorf("static_ipaddress, static_routes, static_rules: %w", err)
		}
		a.ip, a.ipk = ipc, k
		stops = append(stops, stop{"static and virtual routes", func() {
			ipc.stop(k, log)
			k.Close()
			a.ip, a.ipk = nil, nil
		}})
	}

	// The files that real servers check, their values known before IPVS
	// is first written.
	if files := fileCheckFiles(cfg); len(files) > 0 {
		fcCtx, stopFC := context.WithCancel(context.Background())
		fcDone := a.watchFileChecks(fcCtx, files, log)
		stops = append(stops, stop{"checked files", func() { stopFC(); <-fcDone }})
	}

	// IPVS first: the node serves as soon as it is MASTER.
	if len(cfg.VirtualServers) > 0 {
		c, err := a.env.DialIPVS()
		if err != nil {
			return fmt.Errorf("ipvs: %w", err)
		}
		a.mu.Lock()
		a.ipvs = c
		a.mu.Unlock()
		stops = append(stops, stop{"ipvs", func() {
			a.mu.Lock()
			keep := a.opts.KeepIPVS || a.cfg.Global.DontReleaseIPVS // as last reloaded
			a.mu.Unlock()
			a.stopLVSGlobals(c, keep)
			c.Close()
		}})
		a.startLVSGlobals(c, cfg.Global)
		if err := a.sync("start"); err != nil {
			return err
		}
	}

	// The connection sync daemons, which follow the VRRP instance.
	if err := a.startSyncDaemons(cfg.Global.SyncDaemon); err != nil {
		return err
	}
	stops = append(stops, stop{"sync daemons", a.stopSyncDaemons})

	// NAT switch: present until the instance is MASTER.
	var sw NATSwitch
	// up: the node came up (a failed start does not drain); drained: its
	// stop drained it.
	var up, drained bool
	if cfg.NAT != nil {
		sw, err = a.env.OpenNAT(&nat.Config{Interface: cfg.NAT.Interface, VIPs: cfg.NAT.VIPs, LocalIPv4: cfg.NAT.LocalAddress})
		if err != nil {
			return err
		}
		if err := sw.Backup(); err != nil {
			sw.Close()
			return fmt.Errorf("nat: %w", err)
		}
		stops = append(stops, stop{"nat", func() {
			if drained {
				if err := sw.Undrain(); err != nil {
					log.Error("nat: ending the drain at stop", "err", err)
				}
			}
			if err := sw.Master(); err != nil {
				log.Error("nat: removing the rule at stop", "err", err)
			}
			sw.Close()
		}})
	}

	// nginx.
	var ngx Nginx
	if cfg.Nginx != nil {
		ngx = a.env.Nginx(nginxPrefix(cfg))
		if _, err := a.applyNginx(ctx, ngx, cfg); err != nil {
			return err
		}
		stops = append(stops, stop{"nginx", func() {
			if err := ngx.Stop(10 * time.Second); err != nil {
				log.Error("nginx: stopping", "err", err)
			}
		}})
		// Before nginx stops (registered after it).
		stops = append(stops, stop{"drain", func() {
			if up {
				drained = a.drain(sw)
			}
		}})
	}

	// Health checks.
	a.paceEvery.Store(int64(driftInterval(cfg)))
	observe := func(o healthcheck.Observation) {
		if o.Attempt == 1 && int64(o.Interval) == a.paceEvery.Load() {
			a.pace.Store(o.Scheduled.UnixNano())
		}
		if a.opts.OnCheck != nil {
			a.opts.OnCheck(o)
		}
	}
	mon, err := healthcheck.New(&healthcheck.Config{Observe: observe, Rounds: true}, a.env.healthTargets(a.currentPlan().targets)...)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// ha_suspend: checks suspended while the virtual server's address is
	// not on the node, from before their first round.
	if len(haSuspendGroups(cfg)) > 0 {
		w := newHAWatch(mon, log, cfg)
		haCtx, stopHA := context.WithCancel(context.Background())
		if err := w.watchAddrs(haCtx); err != nil {
			stopHA()
			return fmt.Errorf("ha_suspend: %w", err)
		}
		a.mu.Lock()
		a.ha = w
		a.mu.Unlock()
		stops = append(stops, stop{"ha_suspend", stopHA})
	}
	monCtx, stopMon := context.WithCancel(context.Background())
	monDone := make(chan error, 1)
	go func() { monDone <- mon.Run(monCtx) }()
	stops = append(stops, stop{"health checks", func() { stopMon(); <-monDone }})

	// Notify FIFOs, closed after the notify programs' stop, which writes
	// the checkers' last lines (omega).
	fifos, err := openFIFOs(cfg, log)
	if err != nil {
		return err
	}
	stops = append(stops, stop{"notify fifos", fifos.close})
	a.mu.Lock()
	a.plan.lvs.setFIFO(fifos.writeLVS)
	a.mu.Unlock()

	// Alert e-mails, queued and sent by their own goroutine; closed after
	// the notify programs' stop, which queues the last ones.
	mailer := newMailer(cfg, log, a.env.DialSMTP)
	if mailer != nil {
		a.mu.Lock()
		a.mail = mailer
		a.plan.lvs.setMail(mailer.alert)
		a.mu.Unlock()
		stops = append(stops, stop{"alert mails", func() { mailer.close(min(mailer.timeout, mailStopWait)) }})
	}

	// Notify programs, in transition order.
	notifier := a.env.Notify(a.opts.NotifyTimeout, log, cfg.Global.Script.Credential())
	a.mu.Lock()
	a.plan.lvs.setNotify(func(argv []string) { notifier.EnqueueAll([][]string{argv}) }) // real-server and quorum programs
	a.mu.Unlock()
	stops = append(stops, stop{"notify programs", func() {
		a.mu.Lock()
		a.plan.stopping() // omega
		a.mu.Unlock()
		notifier.Close(30 * time.Second)
	}})

	// The firewall of the instances without accept mode, closed after
	// the instances stop (registered before them).
	var fw *vipFilter
	if spec := newVIPFilterSpec(cfg, a.vrrp); spec != nil {
		if fw, err = openVIPFilter(spec, a.env.OpenVIPFilter, log); err != nil {
			return err
		}
		stops = append(stops, stop{"vrrp firewall", fw.close})
	}
	// VRRP: one router per advertisement interface. Transitions reach the
	// loop through a channel that never blocks the router.
	transitions := make(chan vrrp.Transition, 1024)
	trackTransitions := make(chan vrrp.Transition, 1024) // for sync groups
	onTransition := func(t vrrp.Transition) {
		fifos.instance(t)
		select {
		case trackTransitions <- t:
		default:
			log.Error("vrrp: sync group queue full; dropped", "instance", t.Instance, "to", t.To.String())
		}
		a.mu.Lock()
		current := a.cfg // notify programs may change on reload
		a.mu.Unlock()
		notifier.EnqueueAll(notifyCommands(current, t))
		mailer.instanceAlert(current, t)
		select {
		case transitions <- t:
		default:
			log.Error("vrrp: transition queue full; dropped", "instance", t.Instance, "to", t.To.String())
		}
	}
	// A MASTER hearing a lower priority: keepalived's
	// notify_master_rx_lower_pri program and FIFO line.
	onLowerPriority := func(l vrrp.LowerPriority) {
		fifos.lowerPriority(l)
		a.mu.Lock()
		current := a.cfg
		a.mu.Unlock()
		for _, in := range current.VRRP {
			if in.Name == l.Instance && len(in.NotifyMasterRxLowerPri) > 0 {
				notifier.EnqueueAll([][]string{in.NotifyMasterRxLowerPri})
			}
		}
	}
	vrrpCtx, stopVRRP := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ifaces := sortedKeys(a.vrrp)
	groups, shared := garpGroups(cfg, a.vrrp)
	for _, s := range shared {
		log.Warn("vrrp: garp_group paced per advert interface", "detail", s)
	}
	for _, ifname := range ifaces {
		r, err := a.env.OpenVRRP(a.vrrp[ifname], &vrrp.Options{OnTransition: onTransition, OnLowerPriority: onLowerPriority, Logger: log,
			BeforeAddVIPs: func(name string) { fw.hold(name, true) }, AfterRemoveVIPs: func(name string) { fw.hold(name, false) },
			AwaitTracking: awaitTracking(cfg, a.vrrp[ifname]), GARPGroups: groups})
		if err != nil {
			stopVRRP()
			a.mu.Lock()
			for _, opened := range a.routers { // not running yet
				opened.Close()
			}
			a.routers = nil
			a.mu.Unlock()
			return err
		}
		a.mu.Lock()
		if a.routers == nil {
			a.routers = map[string]*vrrp.Router{}
		}
		a.routers[ifname] = r
		a.mu.Unlock()
	}
	// The VMACs exist once their routers are open: their rules come
	// before any instance's VIPs, as in keepalived.
	fw.startVMACs()
	for _, ifname := range ifaces {
		r := a.routers[ifname]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(vrrpCtx); err != nil {
				log.Error("vrrp: router stopped", "interface", ifname, "err", err)
			}
		}()
	}
	// Stopping VRRP comes first (registered last): priority-0 adverts and
	// VIPs removed before the rest goes.
	stops = append(stops, stop{"vrrp", func() {
		stopVRRP()
		wg.Wait()
		for {
			select {
			case t := <-transitions:
				a.onTransition(t, sw, cfg)
			default:
				return
			}
		}
	}})
	// Before the instances stop: keepalived ends its scripts, the FIFO
	// programs among them, first.
	stops = append(stops, stop{"notify fifo programs", fifos.terminate})
	// Tracked scripts give the instances their effective priorities, sync
	// groups hold their members in FAULT together.
	trackCtx, stopTrack := context.WithCancel(vrrpCtx)
	trackDone := make(chan struct{})
	a.mu.Lock()
	routers := maps.Clone(a.routers)
	a.mu.Unlock()
	go func() {
		defer close(trackDone)
		a.runTracking(trackCtx, cfg, routers, trackTransitions, notifier.EnqueueAll, fifos, log)
	}()
	stops = append(stops, stop{"tracking", func() { stopTrack(); <-trackDone }})
	// BGP last, so that its graceful stop (withdraw, wait) comes first.
	if cfg.BGP != nil {
		if err := a.startBGPSpeaker(ctx, cfg.BGP); err != nil {
			return err
		}
		stops = append(stops, stop{"bgp", a.stopBGPSpeaker})
	}
	up = true
	log.Info("node up", "vrrp_instances", len(cfg.VRRP), "virtual_servers", len(cfg.VirtualServers), "health_targets", len(a.currentPlan().targets))

	drift := time.NewTimer(driftInterval(cfg))
	defer drift.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping")
			return nil
		case t := <-transitions:
			a.onTransition(t, sw, cfg)
		case ev := <-mon.Events():
			a.onHealth(ev)
		case <-drift.C:
			if err := a.sync("delay loop"); err != nil {
				log.Error("ipvs: repairing", "err", err)
			}
			now := time.Now()
			drift.Reset(nextSync(now, driftInterval(cfg), a.pace.Load()).Sub(now))
		case req := <-a.reload:
			err := a.doReload(ctx, req.cfg, mon, ngx)
			if err == nil {
				cfg = req.cfg
				a.paceEvery.Store(int64(driftInterval(cfg)))
				a.pace.Store(0)
				drift.Reset(driftInterval(cfg))
			}
			req.done <- err
		}
	}
}

// Reload replaces the configuration of a running agent without touching
// what did not change: IPVS entries are reconciled (only changed ones are
// written), health targets whose settings changed are restarted, nginx is
// reloaded if its files changed, and VRRP instances take their new
// settings (priority, advert_int, VIPs, authentication, preemption,
// unicast peers, gratuitous ARP) in place, keeping their states. Adding,
// removing or renaming an instance, or changing its interfaces, VRID or
// unicast source, any change to the NAT switch, and a change of the user
// notify and MISC_CHECK programs run as, are refused with the reason,
// before anything is applied: they need a restart.
func (a *Agent) Reload(ctx context.Context, cfg *config.Config) error {
	done := make(chan error, 1)
	select {
	case a.reload <- reloadReq{cfg, done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

func (a *Agent) doReload(ctx context.Context, cfg *config.Config, mon *healthcheck.Monitor, ngx Nginx) error {
	vc, err := vrrpConfigs(cfg)
	if err != nil {
		return err
	}
	a.mu.Lock()
	old, oldPlan, oldVRRP := a.cfg, a.plan, a.vrrp
	a.mu.Unlock()
	vrrpChanged := !reflect.DeepEqual(vc, oldVRRP)
	if vrrpChanged {
		if err := reconfigurable(oldVRRP, vc); err != nil {
			return fmt.Errorf("reload: %w; restart the node to apply that", err)
		}
	}
	if cfg.Global.Script != old.Global.Script {
		return fmt.Errorf("reload: the script user changed (%s to %s); restart the node to apply that", old.Global.Script, cfg.Global.Script)
	}
	if !sameVIPFilter(cfg, old, vc, oldVRRP) {
		return errors.New("reload: the VRRP firewall (accept mode, strict mode, nftables settings, or the VIPs of an instance without accept mode) changed; restart the node to apply that")
	}
	if !sameNAT(cfg.NAT, old.NAT) {
		return errors.New("reload: the NAT switch changed; restart the node to apply that")
	}
	if !sameIPConfig(cfg, old) {
		return errors.New("reload: static or virtual addresses, routes or rules changed; restart the node to apply that")
	}
	if len(haSuspendGroups(cfg)) > 0 && len(haSuspendGroups(old)) == 0 {
		return errors.New("reload: ha_suspend was added; restart the node to apply that")
	}
	if !reflect.DeepEqual(fileCheckFiles(cfg), fileCheckFiles(old)) {
		return errors.New("reload: the track_files that FILE_CHECKs use changed; restart the node to apply that")
	}
	if !sameMail(cfg.Mail, old.Mail) {
		return errors.New("reload: the mail settings (smtp_server, notification_email, ...) changed; restart the node to apply that")
	}
	if !sameBGP(cfg.BGP, old.BGP) {
		return errors.New("reload: the bgp section changed; restart the node to apply that")
	}
	if (cfg.Nginx == nil) != (old.Nginx == nil) || (cfg.Nginx != nil && nginxPrefix(cfg) != nginxPrefix(old)) {
		return errors.New("reload: nginx was added, removed or moved; restart the node to apply that")
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		return err
	}
	if err := a.applySysctls(cfg.Sysctls); err != nil {
		return err
	}
	a.reloadLVSGlobals(cfg.Global)
	if vrrpChanged {
		// Checked above: each router takes its instances' new settings
		// in place, keeping their states.
		a.mu.Lock()
		routers := a.routers
		a.mu.Unlock()
		for _, ifname := range sortedKeys(vc) {
			if err := routers[ifname].Reconfigure(ctx, vc[ifname]); err != nil {
				return fmt.Errorf("reload: vrrp on %s: %w", ifname, err)
			}
		}
		// The routers have the configured priorities again: the tracking
		// gives them the effective ones.
		select {
		case <-a.retrack:
		default:
		}
		a.retrack <- cfg
		a.mu.Lock()
		a.vrrp = vc
		a.mu.Unlock()
	}
	if cfg.Nginx != nil {
		if _, err := a.applyNginx(ctx, ngx, cfg); err != nil {
			return err
		}
	}
	// Health targets: keep the unchanged ones (and their state).
	oldT := map[string]string{}
	for _, t := range oldPlan.targets {
		oldT[t.Name] = oldPlan.prints[t.Name]
	}
	newT := map[string]bool{}
	for _, t := range p.targets {
		newT[t.Name] = true
		if fp, ok := oldT[t.Name]; ok && fp == p.prints[t.Name] {
			continue
		}
		if _, ok := oldT[t.Name]; ok {
			_ = mon.Remove(t.Name)
		}
		a.mu.Lock()
		delete(a.health, t.Name)
		a.mu.Unlock()
		if err := mon.Add(a.env.healthTarget(t)); err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
	}
	for name := range oldT {
		if !newT[name] {
			_ = mon.Remove(name)
			a.mu.Lock()
			delete(a.health, name)
			a.mu.Unlock()
		}
	}
	// Virtual servers gone from the file are removed.
	a.mu.Lock()
	p.lvs.notify = a.plan.lvs.notify
	p.lvs.mail = a.plan.lvs.mail
	a.cfg, a.plan = cfg, p
	ha := a.ha
	a.mu.Unlock()
	if ha != nil {
		ha.reload(cfg)
	}
	if err := a.reloadSyncDaemons(cfg.Global.SyncDaemon); err != nil {
		return err
	}
	keep := map[ipvs.ServiceKey]bool{}
	for _, v := range p.services {
		keep[v.Service.Key()] = true
	}
	var gone []ipvs.VirtualServer
	for _, v := range oldPlan.services {
		if !keep[v.Service.Key()] {
			gone = append(gone, v)
		}
	}
	a.removeServices(gone)
	if err := a.sync("reload"); err != nil {
		return err
	}
	a.log.Info("configuration reloaded", "source", cfg.Source)
	return nil
}

func (a *Agent) applyNginx(ctx context.Context, ngx Nginx, cfg *config.Config) (bool, error) {
	mod := ""
	if len(cfg.Nginx.Streams) > 0 {
		m, err := ngx.StreamModule(ctx)
		if err != nil {
			return false, fmt.Errorf("nginx: %w", err)
		}
		mod = m
	}
	changed, err := ngx.Apply(ctx, proxyConfig(cfg.Nginx, mod))
	if err != nil {
		return false, fmt.Errorf("nginx: %w", err)
	}
	if changed {
		a.log.Info("nginx configuration applied", "prefix", nginxPrefix(cfg))
	}
	return changed, nil
}

func (a *Agent) currentPlan() *plan {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.plan
}

// onTransition acts on one VRRP transition: the instance's virtual routes
// and rules follow it, the NAT switch follows the instance that drives it.
func (a *Agent) onTransition(t vrrp.Transition, sw NATSwitch, cfg *config.Config) {
	a.mu.Lock()
	a.states[t.Instance] = t.To
	a.mu.Unlock()
	if a.ip != nil {
		a.ip.transition(a.ipk, t, a.log)
	}
	a.syncd.transition(t)
	if sw != nil && t.Instance == natInstance(cfg) {
		var err error
		switch t.To {
		case vrrp.StateMaster:
			err = sw.Master()
		case vrrp.StateBackup, vrrp.StateFault, vrrp.StateStopped:
			// Stopped: the node's nginx still answers what the MASTER
			// forwards to it until it stops too (see drain).
			err = sw.Backup()
		}
		if err != nil {
			a.log.Error("nat switch", "state", t.To.String(), "err", err)
		}
	}
	if a.opts.OnTransition != nil {
		a.opts.OnTransition(t)
	}
}

// onHealth records a health event and makes IPVS follow it.
func (a *Agent) onHealth(ev healthcheck.Event) {
	a.mu.Lock()
	switch ev.Kind {
	case healthcheck.EventUp, healthcheck.EventDown, healthcheck.EventWeight:
		a.health[ev.Target] = targetState{up: ev.Up, weight: ev.Weight, hasWeight: ev.HasWeight}
		if ev.Kind != healthcheck.EventWeight && !ev.Initial {
			a.transitions[ev.Target]++
		}
	default: // stalled or resumed: the watchdog's word, logged below
		a.mu.Unlock()
		a.log.Warn("health", "target", ev.Target, "event", ev.String())
		if a.opts.OnHealth != nil {
			a.opts.OnHealth(ev)
		}
		return
	}
	a.mu.Unlock()
	a.log.Info("health", "target", ev.Target, "event", ev.String())
	if err := a.sync("health"); err != nil {
		a.log.Error("ipvs: applying health", "target", ev.Target, "err", err)
	}
	if a.opts.OnHealth != nil {
		a.opts.OnHealth(ev)
	}
}

// sync makes the kernel's IPVS table match the configuration and the
// health state, touching only what differs.
func (a *Agent) sync(why string) error {
	a.mu.Lock()
	c := a.ipvs
	want := a.plan.desired(a.healthLocked())
	sp := a.bgp
	a.mu.Unlock()
	defer sp.update(want) // announce once the kernel has the services
	if c == nil {
		return nil
	}
	ops, err := c.Reconcile(want, nil)
	a.mu.Lock()
	a.lastSync = time.Now()
	if why == "delay loop" && len(ops) > 0 {
		a.repairs += uint64(len(ops))
	}
	a.mu.Unlock()
	for _, op := range ops {
		if why == "delay loop" {
			a.log.Warn("ipvs: repaired a change made behind the node's back", "op", op.String())
		} else {
			a.log.Info("ipvs", "why", why, "op", op.String())
		}
	}
	if err != nil {
		return fmt.Errorf("ipvs (%s): %w", why, err)
	}
	return nil
}

func (a *Agent) removeServices(vs []ipvs.VirtualServer) {
	a.mu.Lock()
	c := a.ipvs
	a.mu.Unlock()
	for _, v := range vs {
		if err := c.DeleteService(v.Service); err != nil && !errors.Is(err, ipvs.ErrServiceNotFound) {
			a.log.Error("ipvs: removing service", "service", v.Service.String(), "err", err)
		}
	}
}

// nextSync returns when the delay-loop comparison that ran at now runs
// next: every interval, at the instants a round of health checks of that
// interval is due (pace, Unix ns, one such instant; 0 for none known), so
// that both are done in one wake of the process. It is never later than
// now+interval.
func nextSync(now time.Time, interval time.Duration, pace int64) time.Time {
	next := now.Add(interval)
	if pace == 0 || interval <= 0 {
		return next
	}
	// The last instant pace + k*interval not after next.
	d := next.UnixNano() - pace
	k := d / int64(interval)
	if d < 0 && d%int64(interval) != 0 {
		k--
	}
	aligned := time.Unix(0, pace+k*int64(interval))
	if !aligned.After(now) {
		return next
	}
	return aligned
}

// driftInterval is how often IPVS is checked against the configuration:
// the shortest delay_loop, or 60 s.
func driftInterval(cfg *config.Config) time.Duration {
	d := config.DefaultDelayLoop
	for _, vs := range cfg.VirtualServers {
		if vs.DelayLoop > 0 && vs.DelayLoop < d {
			d = vs.DelayLoop
		}
	}
	return d
}

// stateCommand is the notify program of a transition to state: the
// master, backup, fault or stop one.
func stateCommand(to vrrp.State, master, backup, fault, stop config.Command) config.Command {
	switch to {
	case vrrp.StateMaster:
		return master
	case vrrp.StateBackup:
		return backup
	case vrrp.StateFault:
		return fault
	case vrrp.StateStopped:
		return stop
	}
	return nil
}

// notifyCommands are the programs keepalived runs for a transition:
// notify_STATE without arguments, then notify with INSTANCE NAME STATE
// PRIORITY.
func notifyCommands(cfg *config.Config, t vrrp.Transition) [][]string {
	var out [][]string
	for _, in := range cfg.VRRP {
		if in.Name != t.Instance {
			continue
		}
		specific := stateCommand(t.To, in.NotifyMaster, in.NotifyBackup, in.NotifyFault, in.NotifyStop)
		if len(specific) > 0 {
			out = append(out, specific)
		}
		if len(in.Notify) > 0 {
			out = append(out, append(append([]string(nil), in.Notify...), notify.KeepalivedArgs(t.Instance, t.To.String(), int(t.Priority))...))
		}
	}
	return out
}

// reconfigurable checks that the running VRRP instances, old, can take
// next in place: the same interfaces with the same instances, each
// reconfigurable (vrrp.Reconfigurable).
func reconfigurable(old, next map[string][]vrrp.Config) error {
	for _, ifname := range sortedKeys(next) {
		if _, ok := old[ifname]; !ok {
			return fmt.Errorf("vrrp: instance %s on a new interface %s", next[ifname][0].Name, ifname)
		}
	}
	for _, ifname := range sortedKeys(old) {
		was, now := old[ifname], next[ifname]
		for _, o := range was {
			i := slices.IndexFunc(now, func(c vrrp.Config) bool { return c.Name == o.Name })
			if i < 0 {
				return fmt.Errorf("vrrp: instance %s removed or moved from %s", o.Name, ifname)
			}
			if err := vrrp.Reconfigurable(o, now[i]); err != nil {
				return fmt.Errorf("vrrp: instance %s: %w", o.Name, err)
			}
		}
		if len(now) != len(was) {
			return fmt.Errorf("vrrp: %d instances on %s instead of %d: one was added", len(now), ifname, len(was))
		}
	}
	return nil
}

// sameNAT reports whether two NAT switch settings are the same, wherever
// in their files they are written.
func sameNAT(a, b *config.NATSwitch) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Pos, y.Pos = config.Pos{}, config.Pos{}
	return reflect.DeepEqual(x, y)
}
