package proxyconf

import (
	"net/netip"
	"time"
)

// Config is the whole nginx configuration of one balancer node: process-wide
// settings, the http sites and the stream (TCP/UDP) sites.
//
// Rendering follows the order of the slices, so the same Config always gives
// the same bytes. The zero value of an optional field means "not rendered"
// (nginx's own default applies) unless its comment says otherwise.
type Config struct {
	Global Global
	// Sites are the http{} parts. In the split layout each becomes
	// sites-enabled/NAME.conf.
	Sites []Site
	// Streams are the stream{} parts. In the split layout each becomes
	// stream-enabled/NAME.conf.
	Streams []Stream
}

// Global holds the main-context, events{} and http{}-wide settings.
// Relative paths are relative to nginx's prefix (the -p option).
type Global struct {
	// Modules are rendered as load_module lines at the top of nginx.conf.
	// Debian's nginx needs DebianStreamModule when Streams are used.
	Modules []string
	// User is the user (and optionally " group") the workers run as.
	User string
	// WorkerProcesses is the number of worker processes; 0 renders "auto".
	WorkerProcesses int
	// WorkerConnections is events{} worker_connections; 0: not rendered.
	WorkerConnections int
	// PIDFile is the pid directive.
	PIDFile string
	// ErrorLog is the error_log directive: a path or "stderr".
	ErrorLog string
	// ErrorLogLevel is the level of ErrorLog: "" (nginx's default, error),
	// debug, info, notice, warn, error, crit, alert or emerg.
	ErrorLogLevel string
	// AccessLog is the http access_log directive: a path or "off".
	AccessLog string
	// TempDir, when set, puts every http temporary directory (client body,
	// proxy, fastcgi, uwsgi, scgi) under it, so that nginx writes nothing
	// outside the node's own directories. nginx creates those directories
	// but not TempDir itself: it must exist.
	TempDir string
}

// DebianStreamModule is where Debian's libnginx-mod-stream installs the
// dynamic stream module. A self-contained configuration that has Streams
// must load it on Debian (Global.Modules); nginx builds with the stream
// module compiled in must not.
const DebianStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

// Site is one http{} file: upstream groups and the servers using them.
type Site struct {
	// Name names the file (sites-enabled/NAME.conf): letters, digits,
	// '.', '_' and '-', not starting with '.'.
	Name      string
	Upstreams []Upstream
	Servers   []Server
}

// Stream is one stream{} file: upstream groups and the TCP/UDP servers
// using them.
type Stream struct {
	// Name names the file (stream-enabled/NAME.conf), as Site.Name.
	Name      string
	Upstreams []Upstream
	Servers   []StreamServer
}

// Method is an upstream load-balancing method.
type Method string

// Load-balancing methods. IPHash exists in http upstreams only.
const (
	RoundRobin Method = ""
	LeastConn  Method = "least_conn"
	IPHash     Method = "ip_hash"
	Random     Method = "random"
)

// Upstream is an upstream group. Names are unique within http{} and within
// stream{} (the two contexts are separate name spaces).
type Upstream struct {
	Name    string
	Method  Method
	Servers []UpstreamServer
	// Keepalive is the number of idle connections kept to the servers
	// per worker (http only); 0: not rendered.
	Keepalive int
}

// UpstreamServer is one server line of an upstream group.
type UpstreamServer struct {
	Address netip.AddrPort
	// Weight: 0 is not rendered (nginx's default is 1).
	Weight int
	// MaxFails: nil is not rendered (nginx's default is 1); 0 disables the
	// accounting of failures.
	MaxFails *int
	// FailTimeout, in whole seconds: 0 is not rendered (nginx's default is
	// 10s).
	FailTimeout time.Duration
	// Backup marks a server used only when the primary ones are down; not
	// allowed with IPHash or Random.
	Backup bool
	// Down marks a server as permanently unavailable.
	Down bool
}

// Listen is one listen directive.
type Listen struct {
	// Addr is the local address; the zero Addr listens on every IPv4
	// address ("listen PORT").
	Addr netip.Addr
	Port uint16
	// DefaultServer makes the http server the default one for Addr:Port.
	DefaultServer bool
	// UDP makes a stream listener a UDP one (stream only).
	UDP bool
	// ReusePort opens one socket per worker (SO_REUSEPORT); it may be set on
	// only one listen directive per address and port.
	ReusePort bool
}

// Server is an http server block.
type Server struct {
	Listen      []Listen
	ServerNames []string
	Locations   []Location
}

// LocationMatch is the modifier of a location.
type LocationMatch string

// Location modifiers.
const (
	Prefix           LocationMatch = ""
	Exact            LocationMatch = "="
	PreferPrefix     LocationMatch = "^~"
	Regexp           LocationMatch = "~"
	RegexpIgnoreCase LocationMatch = "~*"
)

// Location is an http location that proxies to an upstream group.
type Location struct {
	Match LocationMatch
	Path  string
	// Upstream names the http upstream group proxied to.
	Upstream string
	// HTTPS proxies with https:// instead of http://.
	HTTPS bool
	// Headers are proxy_set_header lines, in order. Values may use nginx
	// variables ($host, $remote_addr, ...).
	Headers []Header
	// Redirect is proxy_redirect: "", "default" or "off".
	Redirect string
	// HTTPVersion is proxy_http_version: "", "1.0" or "1.1".
	HTTPVersion string
	// Timeouts (proxy_connect_timeout, proxy_read_timeout,
	// proxy_send_timeout) in whole milliseconds; 0: not rendered.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	SendTimeout    time.Duration
}

// Header is one proxy_set_header line.
type Header struct {
	Name  string
	Value string
}

// ForwardedHeaders returns the headers the article's balancers pass to the
// web servers: Host, X-Real-IP and X-Forwarded-For.
func ForwardedHeaders() []Header {
	return []Header{
		{Name: "Host", Value: "$host"},
		{Name: "X-Real-IP", Value: "$remote_addr"},
		{Name: "X-Forwarded-For", Value: "$proxy_add_x_forwarded_for"},
	}
}

// StreamServer is a stream server block: TCP or UDP listeners proxied to a
// stream upstream group.
type StreamServer struct {
	Listen []Listen
	// Upstream names the stream upstream group proxied to.
	Upstream string
	// ConnectTimeout is proxy_connect_timeout; 0: not rendered.
	ConnectTimeout time.Duration
	// Timeout is proxy_timeout; 0: not rendered.
	Timeout time.Duration
	// Responses is proxy_responses, the number of datagrams expected back
	// for each UDP datagram; nil: not rendered. Needs a UDP listener.
	Responses *int
}
