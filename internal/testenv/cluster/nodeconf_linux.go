package cluster

import (
	"fmt"
	"strings"
	"time"
)

// NodeOptions vary a balancer's lbnode configuration.
type NodeOptions struct {
	// Priority of the VRRP instance; the article gives lb1 102, lb2 101.
	Priority int
	// Nopreempt keeps a returning higher-priority node BACKUP, as the
	// article's keepalived.conf does.
	Nopreempt bool
	// NginxPrefix is the folder of the node's nginx.
	NginxPrefix string
	// DelayLoop is the health checks' and IPVS repair interval in seconds.
	DelayLoop int
	// ConntrackMax also sets net.nf_conntrack_max, a global setting that
	// can only be written from the initial network namespace.
	ConntrackMax bool
	// Inhibit gives the real servers inhibit_on_failure: a failed one is
	// kept at weight 0 instead of removed, so that the connections IPVS
	// sent to it before (a handshake in flight, a response on its way)
	// finish while it drains.
	Inhibit bool
	// V3Interval, when set, makes the instance VRRPv3 with this advert
	// interval, without the article's authentication (VRRPv3 has none);
	// zero keeps the article's VRRPv2, 1 s adverts and PASS.
	V3Interval time.Duration
}

// NodeYAML returns the lbnode configuration of balancer b in the article's
// cluster: VRRP on eth1 with the VIP on eth0, IPVS (wlc, DR) over both
// balancers' nginx for HTTP and DNS, the NAT switch, nginx proxying to the
// web and DNS servers, and the sysctls.
func NodeYAML(b *Balancer, o NodeOptions) string {
	if o.DelayLoop == 0 {
		o.DelayLoop = 6
	}
	svc := []string{"172.16.0.1", "172.16.0.2"}
	inhibit := ""
	if o.Inhibit {
		inhibit = "\n        inhibit_on_failure: true"
	}
	var real80, real53 strings.Builder
	for _, ip := range svc {
		fmt.Fprintf(&real80, `
      - address: %s:80
        weight: 1%s
        checkers:
          - type: TCP_CHECK
            connect_timeout: 2`, ip, inhibit)
		fmt.Fprintf(&real53, `
      - address: %s:53
        weight: 1%s
        checkers:
          - type: DNS_CHECK
            name: www.example.com.
            query_type: A
            connect_timeout: 2
            retry: 1`, ip, inhibit)
	}
	advert := "    advert_int: 1\n    authentication:\n      auth_type: PASS\n      auth_pass: secret\n"
	if o.V3Interval > 0 {
		advert = fmt.Sprintf("    version: 3\n    advert_int: %v\n", o.V3Interval)
	}
	sysctls := "  net.ipv4.ip_nonlocal_bind: 1\n  net.ipv4.vs.drop_entry: 1\n  net.ipv4.vs.expire_nodest_conn: 1\n"
	if o.ConntrackMax {
		sysctls += "  net.nf_conntrack_max: 4194304\n"
	}
	return fmt.Sprintf(`# lbnode configuration of %[1]s in the article's two-node cluster.
global:
  router_id: %[1]s

vrrp_instances:
  - name: %[2]s
    interface: eth1
    track_interface: [eth0, eth1]
    virtual_router_id: 1
    nopreempt: %[3]t
    priority: %[4]d
%[11]s    virtual_ipaddress:
      - %[2]s/24 dev eth0

virtual_servers:
  - address: %[2]s:80
    protocol: TCP
    lb_algo: wlc
    lb_kind: DR
    delay_loop: %[5]d
    real_servers:%[6]s
  - address: %[2]s:53
    protocol: UDP
    lb_algo: wlc
    lb_kind: DR
    delay_loop: %[5]d
    real_servers:%[7]s

nat:
  vrrp_instance: %[2]s
  interface: eth1
  vips: [%[2]s]
  local_address: %[8]s

nginx:
  prefix: %[9]s
  http:
    - name: web_servers
      upstreams:
        - name: web_servers
          servers: [192.168.0.101:80, 192.168.0.102:80, 192.168.0.103:80]
      servers:
        - listen:
            - %[8]s:80 default_server
            - %[2]s:80 default_server
          locations:
            - path: /
              proxy_pass: web_servers
              proxy_set_header:
                Host: $host
                X-Real-IP: $remote_addr
                X-Forwarded-For: $proxy_add_x_forwarded_for
              proxy_redirect: default
  stream:
    - name: dns_servers
      upstreams:
        - name: dns_servers
          servers: [192.168.0.201:53, 192.168.0.202:53]
      servers:
        - listen:
            - %[8]s:53 udp reuseport
            - %[2]s:53 udp reuseport
          proxy_pass: dns_servers
          proxy_timeout: 3
          proxy_responses: 1

sysctls:
%[10]s`, b.Name, VIP, o.Nopreempt, o.Priority, o.DelayLoop, real80.String(), real53.String(), b.SVC, o.NginxPrefix, sysctls, advert)
}
