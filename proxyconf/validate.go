package proxyconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is matched (errors.Is) by every *FieldError.
var ErrInvalid = errors.New("proxyconf: invalid configuration")

// FieldError reports one invalid value of a Config. Field is the Go path of
// the field, e.g. "Sites[0].Upstreams[1].Servers[2].Address".
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("proxyconf: %s %s: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Validate checks the configuration and returns every problem found, each a
// *FieldError (joined with errors.Join), or nil. It checks what can be
// checked without nginx: names, addresses and ports, empty upstreams,
// duplicates, references to missing upstreams, options used in the wrong
// context, durations nginx cannot express.
func (c *Config) Validate() error {
	v := &validator{}
	v.global(&c.Global)

	httpUps := map[string]string{} // upstream name -> field of its first definition
	streamUps := map[string]string{}
	files := map[string]string{}
	for i := range c.Sites {
		s := &c.Sites[i]
		f := fmt.Sprintf("Sites[%d]", i)
		v.fileName(f+".Name", s.Name, files, "sites-enabled/")
		for j := range s.Upstreams {
			v.upstream(fmt.Sprintf("%s.Upstreams[%d]", f, j), &s.Upstreams[j], httpUps, true)
		}
	}
	for i := range c.Streams {
		s := &c.Streams[i]
		f := fmt.Sprintf("Streams[%d]", i)
		v.fileName(f+".Name", s.Name, files, "stream-enabled/")
		for j := range s.Upstreams {
			v.upstream(fmt.Sprintf("%s.Upstreams[%d]", f, j), &s.Upstreams[j], streamUps, false)
		}
	}

	// Sockets: http listeners may be shared by several servers (virtual
	// hosts) but default_server and socket options only once; stream
	// listeners are unique per protocol, address and port.
	httpSockets := map[socketKey]*socketUse{}
	streamSockets := map[socketKey]string{}
	for i := range c.Sites {
		for j := range c.Sites[i].Servers {
			f := fmt.Sprintf("Sites[%d].Servers[%d]", i, j)
			v.server(f, &c.Sites[i].Servers[j], httpUps, httpSockets)
		}
	}
	for i := range c.Streams {
		for j := range c.Streams[i].Servers {
			f := fmt.Sprintf("Streams[%d].Servers[%d]", i, j)
			v.streamServer(f, &c.Streams[i].Servers[j], streamUps, streamSockets, httpSockets)
		}
	}
	return errors.Join(v.errs...)
}

type validator struct {
	errs []error
}

func (v *validator) add(field, value, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)})
}

func q(s string) string { return strconv.Quote(s) }

func (v *validator) global(g *Global) {
	for i, m := range g.Modules {
		v.path(fmt.Sprintf("Global.Modules[%d]", i), m, true)
	}
	if g.User != "" {
		parts := strings.Fields(g.User)
		if len(parts) > 2 || len(parts) == 0 || !isWord(parts[0]) || (len(parts) == 2 && !isWord(parts[1])) {
			v.add("Global.User", q(g.User), "want a user name, optionally followed by a group name")
		}
	}
	if g.WorkerProcesses < 0 {
		v.add("Global.WorkerProcesses", strconv.Itoa(g.WorkerProcesses), "must not be negative (0 means auto)")
	}
	if g.WorkerConnections < 0 {
		v.add("Global.WorkerConnections", strconv.Itoa(g.WorkerConnections), "must not be negative")
	}
	switch g.ErrorLogLevel {
	case "", "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg":
		if g.ErrorLogLevel != "" && g.ErrorLog == "" {
			v.add("Global.ErrorLogLevel", q(g.ErrorLogLevel), "needs Global.ErrorLog")
		}
	default:
		v.add("Global.ErrorLogLevel", q(g.ErrorLogLevel), "want debug, info, notice, warn, error, crit, alert or emerg")
	}
	v.path("Global.PIDFile", g.PIDFile, false)
	v.path("Global.ErrorLog", g.ErrorLog, false)
	v.path("Global.AccessLog", g.AccessLog, false)
	v.path("Global.TempDir", g.TempDir, false)
}

func (v *validator) path(field, p string, required bool) {
	if p == "" {
		if required {
			v.add(field, q(p), "must not be empty")
		}
		return
	}
	if strings.ContainsFunc(p, isControl) {
		v.add(field, q(p), "must not contain control characters")
	}
}

func (v *validator) fileName(field, name string, seen map[string]string, dir string) {
	if !isWord(name) || strings.HasPrefix(name, ".") {
		v.add(field, q(name), "want letters, digits, '.', '_' or '-', not starting with '.'")
		return
	}
	key := dir + name
	if first, ok := seen[key]; ok {
		v.add(field, q(name), "duplicate name (also %s)", first)
		return
	}
	seen[key] = field
}

func (v *validator) upstream(f string, u *Upstream, seen map[string]string, http bool) {
	if !isWord(u.Name) {
		v.add(f+".Name", q(u.Name), "want letters, digits, '.', '_' or '-'")
	} else if first, ok := seen[u.Name]; ok {
		v.add(f+".Name", q(u.Name), "duplicate upstream name (also %s)", first)
	} else {
		seen[u.Name] = f
	}
	switch u.Method {
	case RoundRobin, LeastConn, Random:
	case IPHash:
		if !http {
			v.add(f+".Method", q(string(u.Method)), "ip_hash exists in http upstreams only")
		}
	default:
		v.add(f+".Method", q(string(u.Method)), "want \"\", least_conn, ip_hash or random")
	}
	if u.Keepalive < 0 {
		v.add(f+".Keepalive", strconv.Itoa(u.Keepalive), "must not be negative")
	} else if u.Keepalive > 0 && !http {
		v.add(f+".Keepalive", strconv.Itoa(u.Keepalive), "keepalive exists in http upstreams only")
	}
	if len(u.Servers) == 0 {
		v.add(f+".Servers", "[]", "empty upstream: want at least one server")
		return
	}
	primary := 0
	addrs := map[netip.AddrPort]int{}
	for i := range u.Servers {
		s := &u.Servers[i]
		sf := fmt.Sprintf("%s.Servers[%d]", f, i)
		v.endpoint(sf+".Address", s.Address)
		if j, ok := addrs[s.Address]; ok && s.Address.IsValid() {
			v.add(sf+".Address", s.Address.String(), "duplicate server (also %s.Servers[%d])", f, j)
		} else {
			addrs[s.Address] = i
		}
		if s.Weight < 0 {
			v.add(sf+".Weight", strconv.Itoa(s.Weight), "must not be negative")
		}
		if s.MaxFails != nil && *s.MaxFails < 0 {
			v.add(sf+".MaxFails", strconv.Itoa(*s.MaxFails), "must not be negative")
		}
		if s.FailTimeout%time.Second != 0 {
			v.add(sf+".FailTimeout", s.FailTimeout.String(), "nginx takes whole seconds")
		} else {
			v.duration(sf+".FailTimeout", s.FailTimeout)
		}
		if s.Backup {
			if s.Down {
				v.add(sf+".Backup", "true", "a server cannot be both backup and down")
			}
			if u.Method == IPHash || u.Method == Random {
				v.add(sf+".Backup", "true", "method %s does not support backup servers", u.Method)
			}
		}
		if !s.Backup && !s.Down {
			primary++
		}
	}
	if primary == 0 {
		v.add(f+".Servers", fmt.Sprintf("(%d servers)", len(u.Servers)), "want at least one server that is neither backup nor down")
	}
}

// endpoint checks an upstream server address.
func (v *validator) endpoint(field string, ap netip.AddrPort) {
	a := ap.Addr()
	switch {
	case !ap.IsValid():
		v.add(field, q(ap.String()), "want an IP address and port")
	case ap.Port() == 0:
		v.add(field, ap.String(), "port must be 1-65535")
	case a.Zone() != "":
		v.add(field, ap.String(), "IPv6 zones are not supported")
	case a.IsUnspecified() || a.IsMulticast():
		v.add(field, ap.String(), "want a unicast address")
	}
}

func (v *validator) duration(field string, d time.Duration) {
	switch {
	case d < 0:
		v.add(field, d.String(), "must not be negative")
	case d%time.Millisecond != 0:
		v.add(field, d.String(), "nginx takes whole milliseconds")
	}
}

// socketKey identifies a listening socket.
type socketKey struct {
	udp  bool
	addr netip.Addr
	port uint16
}

func (k socketKey) String() string {
	s := netip.AddrPortFrom(k.addr, k.port).String()
	if !k.addr.IsValid() {
		s = "*:" + strconv.Itoa(int(k.port))
	}
	if k.udp {
		return s + "/udp"
	}
	return s
}

// socketUse tracks who defined an http socket's default server and options.
type socketUse struct {
	first         string
	defaultServer string
	options       string
}

func (v *validator) listen(f string, l *Listen) bool {
	ok := true
	if l.Port == 0 {
		v.add(f+".Port", "0", "port must be 1-65535")
		ok = false
	}
	if a := l.Addr; a.IsValid() {
		if a.Zone() != "" {
			v.add(f+".Addr", a.String(), "IPv6 zones are not supported")
			ok = false
		} else if a.IsMulticast() {
			v.add(f+".Addr", a.String(), "want a unicast or unspecified address")
			ok = false
		}
	}
	return ok
}

func (v *validator) server(f string, s *Server, ups map[string]string, sockets map[socketKey]*socketUse) {
	if len(s.Listen) == 0 {
		v.add(f+".Listen", "[]", "want at least one listen address")
	}
	mine := map[socketKey]bool{}
	for i := range s.Listen {
		l := &s.Listen[i]
		lf := fmt.Sprintf("%s.Listen[%d]", f, i)
		if l.UDP {
			v.add(lf+".UDP", "true", "http servers listen on TCP only")
		}
		if !v.listen(lf, l) {
			continue
		}
		k := socketKey{addr: l.Addr, port: l.Port}
		if mine[k] {
			v.add(lf, k.String(), "duplicate listen in the same server")
			continue
		}
		mine[k] = true
		use := sockets[k]
		if use == nil {
			use = &socketUse{first: lf}
			sockets[k] = use
		}
		if l.DefaultServer {
			if use.defaultServer != "" {
				v.add(lf+".DefaultServer", k.String(), "duplicate default server (also %s)", use.defaultServer)
			} else {
				use.defaultServer = lf
			}
		}
		if l.ReusePort {
			if use.options != "" {
				v.add(lf+".ReusePort", k.String(), "duplicate listen options (also %s)", use.options)
			} else {
				use.options = lf
			}
		}
	}
	for i, n := range s.ServerNames {
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return isControl(r) || r == ' ' || strings.ContainsRune(`;{}"'\`, r) }) {
			v.add(fmt.Sprintf("%s.ServerNames[%d]", f, i), q(n), "not a server name")
		}
	}
	if len(s.Locations) == 0 {
		v.add(f+".Locations", "[]", "want at least one location")
	}
	paths := map[string]int{}
	for i := range s.Locations {
		v.location(fmt.Sprintf("%s.Locations[%d]", f, i), &s.Locations[i], ups, paths, i)
	}
}

func (v *validator) location(f string, l *Location, ups map[string]string, paths map[string]int, i int) {
	switch l.Match {
	case Prefix, Exact, PreferPrefix, Regexp, RegexpIgnoreCase:
	default:
		v.add(f+".Match", q(string(l.Match)), "want \"\", =, ^~, ~ or ~*")
	}
	switch {
	case l.Path == "":
		v.add(f+".Path", q(l.Path), "must not be empty")
	case strings.ContainsFunc(l.Path, isControl):
		v.add(f+".Path", q(l.Path), "must not contain control characters")
	case (l.Match == Prefix || l.Match == Exact || l.Match == PreferPrefix) && !strings.HasPrefix(l.Path, "/"):
		v.add(f+".Path", q(l.Path), "a prefix or exact location starts with '/'")
	default:
		key := string(l.Match) + " " + l.Path
		if l.Match == PreferPrefix {
			key = " " + l.Path // ^~ /x and /x are the same location to nginx
		}
		if j, ok := paths[key]; ok {
			v.add(f+".Path", q(l.Path), "duplicate location (also Locations[%d])", j)
		} else {
			paths[key] = i
		}
	}
	v.reference(f+".Upstream", l.Upstream, ups, "http")
	for j, h := range l.Headers {
		hf := fmt.Sprintf("%s.Headers[%d]", f, j)
		if !isToken(h.Name) {
			v.add(hf+".Name", q(h.Name), "not an HTTP header name")
		}
		if strings.ContainsFunc(h.Value, isControl) {
			v.add(hf+".Value", q(h.Value), "must not contain control characters")
		}
	}
	switch l.Redirect {
	case "", "default", "off":
	default:
		v.add(f+".Redirect", q(l.Redirect), "want \"\", default or off")
	}
	switch l.HTTPVersion {
	case "", "1.0", "1.1":
	default:
		v.add(f+".HTTPVersion", q(l.HTTPVersion), "want \"\", 1.0 or 1.1")
	}
	v.duration(f+".ConnectTimeout", l.ConnectTimeout)
	v.duration(f+".ReadTimeout", l.ReadTimeout)
	v.duration(f+".SendTimeout", l.SendTimeout)
}

func (v *validator) reference(field, name string, ups map[string]string, context string) {
	if name == "" {
		v.add(field, q(name), "want the name of an %s upstream", context)
		return
	}
	if _, ok := ups[name]; !ok {
		v.add(field, q(name), "no %s upstream of that name", context)
	}
}

func (v *validator) streamServer(f string, s *StreamServer, ups map[string]string, sockets map[socketKey]string, httpSockets map[socketKey]*socketUse) {
	if len(s.Listen) == 0 {
		v.add(f+".Listen", "[]", "want at least one listen address")
	}
	udp := false
	for i := range s.Listen {
		l := &s.Listen[i]
		lf := fmt.Sprintf("%s.Listen[%d]", f, i)
		if l.DefaultServer {
			v.add(lf+".DefaultServer", "true", "stream servers have no default server")
		}
		if !v.listen(lf, l) {
			continue
		}
		udp = udp || l.UDP
		k := socketKey{udp: l.UDP, addr: l.Addr, port: l.Port}
		if first, ok := sockets[k]; ok {
			v.add(lf, k.String(), "duplicate stream listen (also %s)", first)
			continue
		}
		sockets[k] = lf
		if use, ok := httpSockets[k]; ok {
			v.add(lf, k.String(), "also an http listen (%s)", use.first)
		}
	}
	v.reference(f+".Upstream", s.Upstream, ups, "stream")
	v.duration(f+".ConnectTimeout", s.ConnectTimeout)
	v.duration(f+".Timeout", s.Timeout)
	if s.Responses != nil {
		if *s.Responses < 0 {
			v.add(f+".Responses", strconv.Itoa(*s.Responses), "must not be negative")
		} else if !udp {
			v.add(f+".Responses", strconv.Itoa(*s.Responses), "proxy_responses needs a UDP listener")
		}
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// isWord reports whether s is a non-empty run of letters, digits, '.', '_'
// and '-'.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// isToken reports whether s is an HTTP token (RFC 9110 tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
