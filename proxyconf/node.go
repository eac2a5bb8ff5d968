package proxyconf

import (
	"net/netip"
	"time"
)

// Node describes the nginx layer of one balancer of the article's cluster.
type Node struct {
	// ServiceIP is the node's address on the service network (eth1,
	// 172.16.0.1 or 172.16.0.2 in the article), where the other balancer's
	// IPVS sends traffic.
	ServiceIP netip.Addr
	// VIP is the floating virtual address (192.168.0.100). nginx listens on
	// it even while the node is BACKUP, which needs
	// net.ipv4.ip_nonlocal_bind=1.
	VIP netip.Addr
	// WebBackends are the web servers (HTTP, proxied with Host, X-Real-IP
	// and X-Forwarded-For). Empty: no web site.
	WebBackends []netip.AddrPort
	// DNSBackends are the DNS servers (UDP). Empty: no DNS stream.
	DNSBackends []netip.AddrPort
	// WebPort and DNSPort are the ports nginx listens on; 0 means 80 and 53.
	WebPort uint16
	DNSPort uint16
	// DNSTimeout is proxy_timeout for the DNS stream; 0 is not rendered
	// (nginx's default is 10m, long for DNS: a few seconds suits better).
	DNSTimeout time.Duration
	// DNSResponses is proxy_responses for the DNS stream: with 1, nginx ends
	// a client's UDP session as soon as the answer is back. nil is not
	// rendered (as in the article).
	DNSResponses *int
}

// NodeConfig returns the article's nginx configuration for a node: an http
// upstream "web_servers" with a server listening on the service IP and on
// the VIP as default_server, and a stream upstream "dns_servers" with UDP
// listeners (reuseport) on both addresses, each in the file the article
// uses (sites-enabled/web_servers.conf, stream-enabled/dns_servers.conf).
//
// Global is left zero: set PIDFile, ErrorLog, TempDir and, for Debian's
// nginx with a self-contained file, Modules, as the deployment needs. The
// result is not validated; Render and Validate report bad input.
func NodeConfig(n Node) *Config {
	webPort, dnsPort := n.WebPort, n.DNSPort
	if webPort == 0 {
		webPort = 80
	}
	if dnsPort == 0 {
		dnsPort = 53
	}
	c := &Config{}
	if len(n.WebBackends) > 0 {
		up := Upstream{Name: "web_servers"}
		for _, b := range n.WebBackends {
			up.Servers = append(up.Servers, UpstreamServer{Address: b})
		}
		c.Sites = append(c.Sites, Site{
			Name:      "web_servers",
			Upstreams: []Upstream{up},
			Servers: []Server{{
				Listen: []Listen{
					{Addr: n.ServiceIP, Port: webPort, DefaultServer: true},
					{Addr: n.VIP, Port: webPort, DefaultServer: true},
				},
				Locations: []Location{{
					Path:     "/",
					Headers:  ForwardedHeaders(),
					Upstream: "web_servers",
					Redirect: "default",
				}},
			}},
		})
	}
	if len(n.DNSBackends) > 0 {
		up := Upstream{Name: "dns_servers"}
		for _, b := range n.DNSBackends {
			up.Servers = append(up.Servers, UpstreamServer{Address: b})
		}
		c.Streams = append(c.Streams, Stream{
			Name:      "dns_servers",
			Upstreams: []Upstream{up},
			Servers: []StreamServer{{
				Listen: []Listen{
					{Addr: n.ServiceIP, Port: dnsPort, UDP: true, ReusePort: true},
					{Addr: n.VIP, Port: dnsPort, UDP: true, ReusePort: true},
				},
				Timeout:   n.DNSTimeout,
				Responses: n.DNSResponses,
				Upstream:  "dns_servers",
			}},
		})
	}
	return c
}
