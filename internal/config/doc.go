// Package config reads the configuration of an lvskit balancer node
// (the lbnode program) into plain typed structs: VRRP instances, IPVS
// virtual servers with their real servers and health checkers, the NAT
// switch, the nginx proxy layer and the sysctls the node applies.
//
// Two formats are read:
//
//   - YAML (files ending in .yaml or .yml), whose keys are keepalived's
//     directive names. Unknown keys, wrong types and bad values are errors
//     with the line and the field path, for example
//     "lb1.yaml:14: vrrp_instances[0].priority: "high" is not a number 1-255".
//     See testdata/lb1.yaml for the article's first balancer.
//   - keepalived.conf (any other name): global_defs, vrrp_instance and
//     virtual_server blocks, with '#' and '!' comments, quoted strings and
//     include directives (globs, relative to the including file). Unknown
//     or malformed directives are errors with the file, line and directive,
//     for example `keepalived.conf:12: virtual_router_id: "abc" is not a
//     number 1-255`. What keepalived accepts with a mere warning (an unknown
//     global_defs setting, connect_timeout inside MISC_CHECK as in the
//     article) is accepted and listed in Config.Warnings, so that an
//     existing keepalived.conf runs unchanged.
//
// Defaults are keepalived's: priority 100 (255 for an instance with state
// MASTER and no priority), advert_int 1s, state BACKUP,
// garp_master_delay 5s, garp_master_repeat 5 (or the global_defs
// vrrp_garp_master_delay and vrrp_garp_master_repeat read before the
// instance), garp_lower_prio_delay and garp_lower_prio_repeat those of
// global_defs (vrrp_garp_lower_prio_*, themselves defaulting to the global
// garp_master ones, wherever global_defs stands), lb_algo wlc, lb_kind NAT,
// delay_loop 60s, weight 1, connect_timeout 5s, retry 1 (0 for
// MISC_CHECK, 3 for DNS_CHECK), delay_before_retry 1s, misc_timeout the
// delay_loop, DNS_CHECK name "." and type SOA, and, for a
// keepalived.conf virtual_server without a protocol, UDP. A node sets
// only the sysctls a YAML file lists: none for a keepalived.conf, which
// keepalived never changes kernel settings for. As
// keepalived does, nopreempt is cleared at priority 255 or with state
// MASTER, and preempt_delay with state MASTER, each with a warning. A
// privileged test runs `keepalived -t` on the same files and checks that
// keepalived warns exactly where the reader does.
//
// Load picks the format from the file name; Config.Summary prints what a
// node would apply (lbnode -check). The package is pure: apart from Load
// and include directives reading files, it touches nothing in the system,
// needs no privileges and does not depend on network namespaces. Mapping
// the result onto the vrrp, ipvs, nat, healthcheck and proxyconf packages
// is the agent's job.
package config
