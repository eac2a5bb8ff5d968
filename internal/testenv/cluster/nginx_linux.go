package cluster

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/proxyconf"
)

// StartNginx runs the article's nginx layer of balancer b in its
// namespace, in the foreground, with its files under dir/nginx-NAME:
// HTTP on the service address and the VIP proxied to the web servers, DNS
// likewise to the DNS servers. Stop it with [topology.Proc.Stop].
func StartNginx(b *Balancer, dir string) (*topology.Proc, error) {
	prefix := filepath.Join(dir, "nginx-"+b.Name)
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		return nil, err
	}
	web := []netip.AddrPort{netip.MustParseAddrPort("192.168.0.101:80"), netip.MustParseAddrPort("192.168.0.102:80"), netip.MustParseAddrPort("192.168.0.103:80")}
	dns := []netip.AddrPort{netip.MustParseAddrPort("192.168.0.201:53"), netip.MustParseAddrPort("192.168.0.202:53")}
	one := 1
	pc := proxyconf.NodeConfig(proxyconf.Node{ServiceIP: b.SVC, VIP: VIP, WebBackends: web, DNSBackends: dns, DNSTimeout: 3 * time.Second, DNSResponses: &one})
	pc.Global = proxyconf.Global{Modules: []string{proxyconf.DebianStreamModule}, PIDFile: "nginx.pid", ErrorLog: "error.log", AccessLog: "off", TempDir: "tmp"}
	n := proxyconf.Nginx{Prefix: prefix, ConfigFile: filepath.Join(prefix, "conf", proxyconf.MainFile), ErrorLog: filepath.Join(prefix, "startup.log")}
	files, err := pc.Render()
	if err != nil {
		return nil, err
	}
	if _, err := proxyconf.WriteDir(filepath.Join(prefix, "conf"), files); err != nil {
		return nil, err
	}
	return b.NS.Start("nginx", n.Args("-g", "daemon off;")...)
}
