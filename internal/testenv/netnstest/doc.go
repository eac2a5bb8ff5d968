// Package netnstest holds the helpers of lvskit's privileged test tiers: it
// creates network namespaces, builds topologies of hosts joined to bridges
// and runs programs inside them, and cleans all of it up when the test ends.
//
// # Privileges
//
// Everything here needs root on Linux. Tests call [RequirePrivileged] first:
// it skips the test with a reason when a prerequisite is missing, or fails
// it when the environment variable LVSKIT_REQUIRE_PRIVILEGED is 1, so that a
// CI run can never count a skipped privileged test as a pass.
//
// # Network safety
//
// Each host is a fresh named namespace (visible to `ip netns`). Bridges live
// in a namespace of their own, the "switch" of a [Topology], and hosts are
// joined to them by veth pairs created inside the switch namespace with
// their host end placed directly in the host's namespace. Nothing is ever
// attached to the root namespace, so no test packet can leave the machine.
//
// # Processes
//
// [NS.Start] runs a program inside a namespace with `ip netns exec`, keeps
// its PID and output, and at cleanup sends SIGTERM, then SIGKILL to that
// PID alone.
package netnstest
