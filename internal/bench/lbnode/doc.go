// Command lbnode compares the memory and CPU use of lbnode with keepalived's
// running the article's configuration, side by side, each on its own copy
// of the two-node cluster, measured at the same time.
//
//	go run ./internal/bench/lbnode [-idle 60s] [-traffic 60s] [-settle 10s]
//	    [-http-rate 20] [-dns-rate 10] [-lbnode PATH] [-natswitch PATH] [-metrics]
//
// It builds the article's topology in network namespaces (client, lb1, lb2,
// web1..3, dns1..2 and a switch namespace holding the bridges; see package
// internal/testenv/cluster) three times, once for each of three setups, each run
// on both balancers of its copy:
//
//   - lbnode with the demo's YAML configuration (cluster.NodeYAML): VRRP on
//     eth1 with the VIP on eth0, IPVS wlc/DR over both balancers' nginx,
//     TCP and DNS health checks every 6 s, the NAT switch, and nginx, which
//     lbnode configures and starts;
//   - keepalived with the article's keepalived.conf (VIP on eth0, VRRP on
//     eth1, nopreempt, the same virtual servers with TCP_CHECK and
//     MISC_CHECK "/bin/nc -zn -u"), its notify program being natswitch
//     (built from ./examples/natswitch), nginx started separately with the
//     files lbnode rendered, and net.ipv4.ip_nonlocal_bind=1 and
//     net.ipv4.vs.drop_entry=1 set in each namespace;
//   - lbnode again, reading that same keepalived.conf ("lbnode ka.conf"),
//     with nginx, natswitch and the sysctls as for keepalived: the same work,
//     MISC_CHECK forking nc included, so that the difference left is the
//     daemon's own.
//
// They start in the order lbnode, lbnode ka.conf, keepalived: the last two
// start nginx with the files the first one rendered for the same node. In
// each copy lb1 (priority 102) starts first and becomes MASTER; lb2 (101)
// joins as BACKUP.
//
// When all three are up and have settled, the six nodes are measured
// together, through an idle phase and then a traffic phase in which each
// copy's client namespace sends HTTP requests (each on a fresh connection)
// and DNS queries through its VIP at a bounded rate. Measuring them at the
// same time is what makes them comparable under emulation: the emulated
// machine's speed drifts, by up to a factor of two from one minute to the
// next, and phases run one after the other would show that drift as a
// difference between the implementations. For each node the program follows the daemon's process
// tree (keepalived's parent, VRRP child and checker child, with whatever they
// fork; lbnode is one process) and leaves nginx out, since both use the same
// nginx:
//
//   - RSS steady: the median over one-second samples of the summed VmRSS,
//     processes sharing one address space counted once (a child between
//     vfork and exec is shown its parent's memory);
//   - RSS peak: the summed VmHWM at the end of the phase, the high-water
//     marks having been reset (clear_refs 5) at its start; for the startup
//     row, the high-water marks since the daemons started;
//   - PSS steady: like RSS steady from smaps_rollup, which shares the pages
//     keepalived's forked processes have in common among them;
//   - CPU: utime+stime+cutime+cstime from /proc/PID/stat, summed over the
//     tree, at the end of the phase minus at its start (children that
//     exited, such as MISC_CHECK's nc, count through their parent's cutime);
//   - own CPU: utime+stime of the daemon's processes alone (those there at
//     both ends of the phase), without the programs they ran;
//   - switches: the context switches, voluntary and not, of those
//     processes' threads (/proc/PID/task/TID/status). Under emulation each
//     is costly, and unlike CPU time their count does not drift with the
//     emulated machine's speed, so it compares the daemons' idle work more
//     steadily than CPU time does.
//
// It prints a table per implementation, node role and phase, the ratios
// lbnode/keepalived, whether the goals hold (lbnode's RSS at most 30 MB,
// its idle CPU no higher than keepalived's), and per process the RSS and
// the CPU time split into its own and that of the children it waited for.
//
// The VM runs no syslog daemon, and glibc's syslog() then writes to the
// console, an emulated serial port that is very costly to write to; the
// program therefore listens on /dev/log in the VM and discards what
// keepalived logs there, as a syslog daemon would take it on a real node.
//
// It needs root, keepalived, nginx, ipvsadm, nc and sysctl. When the kernel
// has no IPVS it runs itself inside a VM booting Debian's kernel (package
// internal/testenv/vm), where CPU times are those of an emulated machine: compare
// them with each other, not with real hardware. The VM caches the host's
// files it reads (vm.Config.CacheHostRoot), as a node's local disk would
// be: without it every exec of MISC_CHECK's nc looks up and reads nc and
// its libraries over 9p again, and a daemon that forks with vfork
// (lbnode, through Go's syscall.ForkExec) waits for that lookup before
// its exec returns, while keepalived's fork does not.
//
// Unless given with -lbnode and -natswitch, the two programs are built
// first into a folder under /var/tmp, which the VM can read. Everything it creates (processes, by PID;
// namespaces; folders) is removed at the end, also on Ctrl-C. A benchmark,
// not a test: it fails only when the cluster does not come up.
package main
