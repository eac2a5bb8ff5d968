// Package topology builds networks of simulated hosts on one Linux machine
// (see internal/testenv): each host is a named network namespace, bridges
// live in a "switch" namespace of their own, and hosts are joined to them by
// veth pairs created inside the switch namespace with their host end placed
// directly in the host's namespace. Nothing is attached to the root
// namespace, so no packet can leave the machine. Programs started in a host
// are tracked by PID and signalled by PID alone.
//
// The demo and the benchmarks use it directly; tests use it through
// internal/testenv/netnstest. Building needs root and the `ip` program of
// iproute2, whose `ip netns` names it follows: `ip netns exec NAME ...`
// works on its namespaces.
package topology
