// Package topology builds networks of simulated hosts on one Linux machine:
// each host is a named network namespace, bridges live in a "switch"
// namespace of their own, and hosts are joined to bridges by veth pairs
// created inside the switch namespace with their host end placed directly
// in the host's namespace. Nothing is ever attached to the root namespace,
// so no packet can leave the machine.
//
// The demo uses it directly; tests use it through internal/testenv/netnstest, which
// ties every namespace's removal to the test's cleanup.
//
// Everything here needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and the `ip`
// program of iproute2, whose `ip netns` conventions it follows so that
// `ip netns exec NAME ...` works on the namespaces it creates.
package topology
