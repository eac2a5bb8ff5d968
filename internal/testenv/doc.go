// Package testenv is the home of lvskit's test environments; it holds no
// code of its own. Its subpackages build the places the privileged test
// tiers, the demo and the benchmarks run in:
//
//   - topology: hosts as named network namespaces joined by bridges that
//     live in a "switch" namespace of their own, and programs run inside
//     them, tracked by PID; nothing is attached to the root namespace.
//   - netnstest: topology tied to a test's cleanup, and RequirePrivileged,
//     which skips a privileged test with its reason, or fails it when
//     LVSKIT_REQUIRE_PRIVILEGED=1.
//   - cluster: the article's two-balancer topology with its web and DNS
//     servers, used by the demo, the end-to-end tests and the benchmarks.
//   - scaleout: the scale-out topology (an FRR router, three lbnodes
//     announcing the VIP by BGP, real servers, a client behind the
//     router), used by TestVMScaleOutBGP and `demo -bgp`.
//   - frr: FRR's daemons in a namespace: bgpd and bfdd as the router of
//     the scale-out, vrrpd as a third VRRP implementation.
//   - vm, vmrun, vmtest: a throwaway qemu VM booting Debian's kernel, for
//     IPVS where the host kernel has none; vmrun is its command line
//     (go run ./internal/testenv/vmrun) and vmtest re-runs a package's
//     TestVM tests inside it.
//   - childproc: starts the programs of topology and vm so that they die
//     with the process that started them.
//   - smtpsink: a small SMTP server that keeps the messages it takes, for
//     the tests of alert e-mails.
//
// Product code lives beside this folder (internal/agent,
// config, metrics, notify, natswitch); benchmarks live in internal/bench.
package testenv
