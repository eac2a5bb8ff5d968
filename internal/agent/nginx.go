package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/proxyconf"
)

// proxyConfig maps the nginx part of the configuration onto proxyconf. The
// node's nginx keeps everything under its prefix: pid file, logs and
// temporary files.
func proxyConfig(n *config.Nginx, streamModule string) *proxyconf.Config {
	pc := &proxyconf.Config{Global: proxyconf.Global{
		PIDFile:   "nginx.pid",
		ErrorLog:  "error.log",
		AccessLog: "off",
		TempDir:   "tmp",
	}}
	if len(n.Streams) > 0 && streamModule != "" {
		pc.Global.Modules = []string{streamModule}
	}
	for _, s := range n.Sites {
		site := proxyconf.Site{Name: s.Name, Upstreams: upstreams(s.Upstreams)}
		for _, sv := range s.Servers {
			srv := proxyconf.Server{Listen: listens(sv.Listen), ServerNames: sv.ServerNames}
			for _, l := range sv.Locations {
				loc := proxyconf.Location{
					Match:    proxyconf.LocationMatch(l.Match),
					Path:     l.Path,
					Upstream: l.ProxyPass,
					HTTPS:    l.HTTPS,
					Redirect: l.ProxyRedirect,
				}
				for _, h := range l.Headers {
					loc.Headers = append(loc.Headers, proxyconf.Header{Name: h.Name, Value: h.Value})
				}
				srv.Locations = append(srv.Locations, loc)
			}
			site.Servers = append(site.Servers, srv)
		}
		pc.Sites = append(pc.Sites, site)
	}
	for _, s := range n.Streams {
		st := proxyconf.Stream{Name: s.Name, Upstreams: upstreams(s.Upstreams)}
		for _, sv := range s.Servers {
			st.Servers = append(st.Servers, proxyconf.StreamServer{
				Listen:         listens(sv.Listen),
				Upstream:       sv.ProxyPass,
				ConnectTimeout: sv.ProxyConnectTimeout,
				Timeout:        sv.ProxyTimeout,
				Responses:      sv.ProxyResponses,
			})
		}
		pc.Streams = append(pc.Streams, st)
	}
	return pc
}

func upstreams(us []config.NginxUpstream) []proxyconf.Upstream {
	var out []proxyconf.Upstream
	for _, u := range us {
		pu := proxyconf.Upstream{Name: u.Name, Method: proxyconf.Method(u.Method)}
		for _, s := range u.Servers {
			pu.Servers = append(pu.Servers, proxyconf.UpstreamServer{
				Address: s.Address, Weight: s.Weight, MaxFails: s.MaxFails,
				FailTimeout: s.FailTimeout, Backup: s.Backup, Down: s.Down,
			})
		}
		out = append(out, pu)
	}
	return out
}

func listens(ls []config.NginxListen) []proxyconf.Listen {
	var out []proxyconf.Listen
	for _, l := range ls {
		out = append(out, proxyconf.Listen{Addr: l.Addr, Port: l.Port, DefaultServer: l.DefaultServer, UDP: l.UDP, ReusePort: l.ReusePort})
	}
	return out
}

// nginxRunner keeps the node's nginx running with the rendered
// configuration: it installs the files (only once nginx -t accepts them),
// starts nginx if no master runs yet, and reloads it when they change.
type nginxRunner struct {
	n      proxyconf.Nginx
	prefix string
}

func newNginxRunner(prefix string) *nginxRunner {
	return &nginxRunner{
		prefix: prefix,
		n: proxyconf.Nginx{
			Prefix:     prefix,
			ConfigFile: filepath.Join(prefix, "conf", proxyconf.MainFile),
			ErrorLog:   filepath.Join(prefix, "error.log"),
		},
	}
}

// StreamModule returns the load_module line nginx needs for stream{}.
func (r *nginxRunner) StreamModule(ctx context.Context) (string, error) {
	return r.n.StreamModule(ctx)
}

// Apply installs pc and makes a running nginx use it, starting nginx when
// none runs. It reports whether anything changed.
func (r *nginxRunner) Apply(ctx context.Context, pc *proxyconf.Config) (changed bool, err error) {
	if err := pc.Validate(); err != nil {
		return false, err
	}
	files, err := pc.Render()
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Join(r.prefix, "tmp"), 0o755); err != nil {
		return false, fmt.Errorf("nginx: %w", err)
	}
	if pid := r.pid(); pid > 0 {
		return r.n.Apply(ctx, files)
	}
	if changed, err = r.n.Install(ctx, files); err != nil {
		return changed, err
	}
	cmd, err := r.n.Command(ctx) // daemonizes: returns once the master runs
	if err != nil {
		return changed, err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return changed, fmt.Errorf("nginx: starting: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return true, nil
}

// pid returns the running master's PID, or 0.
func (r *nginxRunner) pid() int {
	b, err := os.ReadFile(filepath.Join(r.prefix, "nginx.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0
	}
	return pid
}

// Stop asks the running nginx to quit gracefully and waits up to timeout.
func (r *nginxRunner) Stop(timeout time.Duration) error {
	pid := r.pid()
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("nginx: stopping pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nginx: pid %d still running after %v", pid, timeout)
}
