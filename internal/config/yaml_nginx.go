package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

func (y *yReader) nginx(n *yNginx) *Nginx {
	ng := &Nginx{}
	y.str(&n.Prefix, "nginx.prefix", &ng.Prefix)
	for i := range n.HTTP {
		s := &n.HTTP[i]
		path := fmt.Sprintf("nginx.http[%d]", i)
		if i == 0 {
			ng.Pos = y.firstPos(&s.Name)
		}
		site := NginxSite{}
		if absent(&s.Name) {
			y.errs.add(Pos{File: y.file}, path+".name", "missing")
		}
		y.str(&s.Name, path+".name", &site.Name)
		site.Upstreams = y.upstreams(s.Upstreams, path)
		for j := range s.Servers {
			site.Servers = append(site.Servers, y.httpServer(&s.Servers[j], fmt.Sprintf("%s.servers[%d]", path, j)))
		}
		ng.Sites = append(ng.Sites, site)
	}
	for i := range n.Stream {
		s := &n.Stream[i]
		path := fmt.Sprintf("nginx.stream[%d]", i)
		if i == 0 {
			if p := y.firstPos(&s.Name); ng.Pos.Line == 0 || (p.Line != 0 && p.Line < ng.Pos.Line) {
				ng.Pos = p
			}
		}
		st := NginxStream{}
		if absent(&s.Name) {
			y.errs.add(Pos{File: y.file}, path+".name", "missing")
		}
		y.str(&s.Name, path+".name", &st.Name)
		st.Upstreams = y.upstreams(s.Upstreams, path)
		for j := range s.Servers {
			st.Servers = append(st.Servers, y.streamServer(&s.Servers[j], fmt.Sprintf("%s.servers[%d]", path, j)))
		}
		ng.Streams = append(ng.Streams, st)
	}
	return ng
}

func (y *yReader) upstreams(ups []yUpstream, parent string) []NginxUpstream {
	var out []NginxUpstream
	for i := range ups {
		u := &ups[i]
		path := fmt.Sprintf("%s.upstreams[%d]", parent, i)
		var nu NginxUpstream
		y.str(&u.Name, path+".name", &nu.Name)
		y.str(&u.Method, path+".method", &nu.Method)
		for j, it := range y.list(&u.Servers, path+".servers") {
			sp := fmt.Sprintf("%s.servers[%d]", path, j)
			if s, ok := y.scalar(it, sp); ok {
				us, err := parseUpstreamServer(s)
				if err != nil {
					y.errf(it, sp, "%s", err)
					continue
				}
				nu.Servers = append(nu.Servers, us)
			}
		}
		out = append(out, nu)
	}
	return out
}

// parseUpstreamServer parses nginx's server line:
// ADDR:PORT [weight=N] [max_fails=N] [fail_timeout=T] [backup] [down].
func parseUpstreamServer(s string) (NginxUpstreamServer, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return NginxUpstreamServer{}, fmt.Errorf("missing address")
	}
	ap, err := parseAddrPort(f[0])
	if err != nil {
		return NginxUpstreamServer{}, err
	}
	us := NginxUpstreamServer{Address: ap}
	for _, p := range f[1:] {
		k, v, hasV := strings.Cut(p, "=")
		switch {
		case k == "backup" && !hasV:
			us.Backup = true
		case k == "down" && !hasV:
			us.Down = true
		case k == "weight" && hasV:
			n, err := parseIntRange(v, 1, 1000)
			if err != nil {
				return us, fmt.Errorf("weight: %w", err)
			}
			us.Weight = n
		case k == "max_fails" && hasV:
			n, err := parseIntRange(v, 0, 1000)
			if err != nil {
				return us, fmt.Errorf("max_fails: %w", err)
			}
			us.MaxFails = &n
		case k == "fail_timeout" && hasV:
			d, err := parseSeconds(v, time.Second, maxDuration)
			if err != nil {
				return us, fmt.Errorf("fail_timeout: %w", err)
			}
			us.FailTimeout = d
		default:
			return us, fmt.Errorf("%q is not weight=N, max_fails=N, fail_timeout=T, backup or down", p)
		}
	}
	return us, nil
}

// parseListen parses nginx's listen: [ADDR:]PORT [default_server] [udp]
// [reuseport].
func parseListen(s string) (NginxListen, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return NginxListen{}, fmt.Errorf("missing address")
	}
	var li NginxListen
	if p, err := strconv.Atoi(f[0]); err == nil {
		if p < 1 || p > 65535 {
			return li, fmt.Errorf("%q is not a port 1-65535", f[0])
		}
		li.Port = uint16(p)
	} else {
		ap, err := parseAddrPort(f[0])
		if err != nil || ap.Port() == 0 {
			return li, fmt.Errorf("%q is not ADDR:PORT or PORT", f[0])
		}
		li.Addr, li.Port = ap.Addr(), ap.Port()
	}
	for _, p := range f[1:] {
		switch p {
		case "default_server":
			li.DefaultServer = true
		case "udp":
			li.UDP = true
		case "reuseport":
			li.ReusePort = true
		default:
			return li, fmt.Errorf("%q is not default_server, udp or reuseport", p)
		}
	}
	return li, nil
}

func (y *yReader) listens(n *yaml.Node, path string) []NginxListen {
	var out []NginxListen
	for i, it := range y.list(n, path) {
		lp := fmt.Sprintf("%s[%d]", path, i)
		if s, ok := y.scalar(it, lp); ok {
			li, err := parseListen(s)
			if err != nil {
				y.errf(it, lp, "%s", err)
				continue
			}
			out = append(out, li)
		}
	}
	return out
}

func (y *yReader) httpServer(s *yHTTPServer, path string) NginxServer {
	var srv NginxServer
	srv.Listen = y.listens(&s.Listen, path+".listen")
	for i, it := range y.list(&s.ServerName, path+".server_name") {
		if v, ok := y.scalar(it, fmt.Sprintf("%s.server_name[%d]", path, i)); ok {
			srv.ServerNames = append(srv.ServerNames, v)
		}
	}
	for i := range s.Locations {
		l := &s.Locations[i]
		lp := fmt.Sprintf("%s.locations[%d]", path, i)
		var loc NginxLocation
		y.str(&l.Match, lp+".match", &loc.Match)
		switch loc.Match {
		case "", "=", "^~", "~", "~*":
		default:
			y.errf(&l.Match, lp+".match", "%q is not =, ^~, ~ or ~*", loc.Match)
		}
		if absent(&l.Path) {
			y.errs.add(y.firstPos(&l.Match, &l.ProxyPass, &l.HTTPS, &l.ProxyRedirect), lp+".path", "missing")
		}
		y.str(&l.Path, lp+".path", &loc.Path)
		y.str(&l.ProxyPass, lp+".proxy_pass", &loc.ProxyPass)
		y.boolean(&l.HTTPS, lp+".https", &loc.HTTPS)
		for _, kv := range y.pairs(&l.ProxySetHeader, lp+".proxy_set_header") {
			k, ok1 := y.scalar(kv[0], lp+".proxy_set_header")
			v, ok2 := y.scalar(kv[1], lp+".proxy_set_header."+kv[0].Value)
			if ok1 && ok2 {
				loc.Headers = append(loc.Headers, NginxHeader{Name: k, Value: v})
			}
		}
		y.str(&l.ProxyRedirect, lp+".proxy_redirect", &loc.ProxyRedirect)
		switch loc.ProxyRedirect {
		case "", "default", "off":
		default:
			y.errf(&l.ProxyRedirect, lp+".proxy_redirect", "%q is not default or off", loc.ProxyRedirect)
		}
		srv.Locations = append(srv.Locations, loc)
	}
	return srv
}

func (y *yReader) streamServer(s *yStreamServer, path string) NginxStreamServer {
	var srv NginxStreamServer
	srv.Listen = y.listens(&s.Listen, path+".listen")
	y.str(&s.ProxyPass, path+".proxy_pass", &srv.ProxyPass)
	y.seconds(&s.ProxyConnectTimeout, path+".proxy_connect_timeout", time.Millisecond, maxDuration, &srv.ProxyConnectTimeout)
	y.seconds(&s.ProxyTimeout, path+".proxy_timeout", time.Millisecond, maxDuration, &srv.ProxyTimeout)
	if !absent(&s.ProxyResponses) {
		var n int
		y.intv(&s.ProxyResponses, path+".proxy_responses", 0, 1000, &n)
		srv.ProxyResponses = &n
	}
	return srv
}
