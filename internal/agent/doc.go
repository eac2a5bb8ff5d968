// Package agent wires lvskit's packages into a balancer node, as
// examples/lbnode runs it: the glue an embedding user copies.
//
//   - VRRP instances (package vrrp) float the VIPs. Their transitions drive
//     the NAT switch (package nat: rule removed on MASTER, present on BACKUP
//     and FAULT) and run notify programs as keepalived does.
//   - IPVS virtual servers (package ipvs) are applied declaratively at start
//     and re-applied every delay loop, so that an entry deleted or changed
//     behind the node's back is restored.
//   - Health checks (package healthcheck) set real servers' weights: to 0
//     on failure (inhibit_on_failure) or out of the table, and back. The
//     checks of one delay loop run in rounds, all begun together
//     (healthcheck.Config.Rounds), and the delay loop's comparison of IPVS
//     with the configuration runs as a round begins: an idle node wakes
//     once per delay loop for all of them, where keepalived, which spreads
//     its checkers over the delay loop (warmup), wakes once per checker.
//   - nginx's configuration (package proxyconf) is rendered from the same
//     file, tested, installed and reloaded when it changes.
//   - The IPVS connection sync daemons (lvs_sync_daemon, syncd.go) follow
//     the VRRP instance as keepalived's do: backup while it is not MASTER,
//     master while it is, stopped at stop; both run when no instance is
//     named.
//   - The sysctls the configuration lists are applied and read back (none
//     for a keepalived.conf).
//
// Mapping the configuration onto the packages (mapping.go) is pure; Run
// holds the few goroutines and the kernel handles. What Run opens on the
// system (VRRP routers, the IPVS client, the NAT switch, nginx, notify
// programs, health checkers) comes from Options.Env, the real system by
// default, so that tests run a whole node on fakes.
package agent
