package agent

import (
	"context"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/notify"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/proxyconf"
	"github.com/lvskit/lvskit/vrrp"
)

// Env is what the agent works on besides its configuration: the kernel's
// VRRP sockets and addresses, its IPVS table and nftables, nginx, notify
// programs and health checks. Each nil field means the real one; tests
// put in fakes (vrrp.New over vrrptest, ipvs.New over ipvstest, ...).
type Env struct {
	// OpenVRRP opens the router of the instances advertised on one
	// interface; default vrrp.Open.
	OpenVRRP func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error)
	// DialIPVS opens the IPVS client, which the agent closes at stop;
	// default ipvs.Dial(nil).
	DialIPVS func() (*ipvs.Client, error)
	// OpenNAT opens the NAT switch, which the agent closes at stop;
	// default nat.Open.
	OpenNAT func(cfg *nat.Config) (NATSwitch, error)
	// OpenVIPFilter opens the nftables firewall of the instances without
	// accept mode, which the agent closes at stop; default
	// nat.OpenVIPFilter.
	OpenVIPFilter func(cfg *nat.VIPFilterConfig) (VIPFilter, error)
	// Nginx returns the runner of the nginx kept under prefix; default
	// one that runs the nginx binary.
	Nginx func(prefix string) Nginx
	// Notify starts the runner of notify programs (each bounded by
	// timeout, run as cred's user, or as the agent when nil); default
	// notify.New.
	Notify func(timeout time.Duration, log *slog.Logger, cred *syscall.Credential) Notifier
	// Checker, if set, gives the checker each health target runs, from
	// the target's name (as in Agent.Health) and the checker the
	// configuration maps it to; default that one.
	Checker func(target string, mapped healthcheck.Checker) healthcheck.Checker
	// WatchLinks reports the state of the interfaces tracked with a
	// weight, then their changes; default the agent's network namespace's.
	WatchLinks func(ctx context.Context, names []string) ([]bool, <-chan vrrp.LinkEvent, error)
	// WatchFiles creates the tracked files that ask for it (init_file),
	// reads them, and reports their values as they change until ctx is
	// done: the initial value of each file it watches (a file whose
	// folder is missing is not watched), and a channel of changes;
	// default watchFiles (inotify).
	WatchFiles func(ctx context.Context, files []config.TrackedFile, log *slog.Logger) ([]fileValue, <-chan fileValue, error)
	// DialSMTP opens the connections to the SMTP server that alert
	// e-mails go through; default a net.Dialer's.
	DialSMTP func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NATSwitch is the part of *nat.Switch the agent uses.
type NATSwitch interface {
	// Master removes the DNAT rules; Backup installs them.
	Master() error
	Backup() error
	// Drain refuses direct connections to the node's own address on
	// ports, keeping the redirected ones; Undrain ends it.
	Drain(ports []nat.Port) error
	Undrain() error
	Close() error
}

// Nginx keeps a node's nginx running with a rendered configuration.
type Nginx interface {
	// StreamModule returns the load_module line nginx needs for stream{}
	// ("" when it is built in).
	StreamModule(ctx context.Context) (string, error)
	// Apply installs pc once nginx accepts it and makes a running nginx
	// use it, starting nginx when none runs. It reports whether anything
	// changed.
	Apply(ctx context.Context, pc *proxyconf.Config) (changed bool, err error)
	// Stop asks the running nginx to quit gracefully and waits for it,
	// at most timeout.
	Stop(timeout time.Duration) error
}

// Notifier runs notify programs in the order they are queued.
type Notifier interface {
	// EnqueueAll queues the commands (program and arguments each) without
	// blocking.
	EnqueueAll(cmds [][]string)
	// Close lets the queued programs run and waits for them, at most wait.
	Close(wait time.Duration)
}

// withDefaults fills the nil fields with the real ones.
func (e Env) withDefaults() Env {
	if e.OpenVRRP == nil {
		e.OpenVRRP = vrrp.Open
	}
	if e.DialIPVS == nil {
		e.DialIPVS = func() (*ipvs.Client, error) { return ipvs.Dial(nil) }
	}
	if e.OpenNAT == nil {
		e.OpenNAT = func(cfg *nat.Config) (NATSwitch, error) {
			sw, err := nat.Open(cfg)
			if err != nil {
				return nil, err
			}
			return sw, nil
		}
	}
	if e.OpenVIPFilter == nil {
		e.OpenVIPFilter = func(cfg *nat.VIPFilterConfig) (VIPFilter, error) {
			f, err := nat.OpenVIPFilter(cfg)
			if err != nil {
				return nil, err
			}
			return f, nil
		}
	}
	if e.Nginx == nil {
		e.Nginx = func(prefix string) Nginx { return newNginxRunner(prefix) }
	}
	if e.WatchFiles == nil {
		e.WatchFiles = watchFiles
	}
	if e.WatchLinks == nil {
		e.WatchLinks = watchLinks
	}
	if e.Notify == nil {
		e.Notify = func(timeout time.Duration, log *slog.Logger, cred *syscall.Credential) Notifier {
			return notify.New(timeout, log, cred)
		}
	}
	return e
}

// healthTarget returns t with the checker Env.Checker gives it.
func (e Env) healthTarget(t healthcheck.Target) healthcheck.Target {
	if e.Checker != nil {
		t.Checker = e.Checker(t.Name, t.Checker)
	}
	return t
}

// healthTargets applies healthTarget to each of ts.
func (e Env) healthTargets(ts []healthcheck.Target) []healthcheck.Target {
	out := make([]healthcheck.Target, len(ts))
	for i, t := range ts {
		out[i] = e.healthTarget(t)
	}
	return out
}
