// Package ipvs manages the kernel's IP Virtual Server (LVS) table over
// generic netlink: virtual services (TCP, UDP, SCTP and firewall marks, IPv4
// and IPv6) with their schedulers, persistence and flags; destinations with
// their forwarding method, weight, thresholds and tunnel settings; stats;
// connection timeouts; flush and zero; and the connection sync daemons.
//
// # Reading and writing
//
// Dial opens a Client over a generic netlink connection; New wraps an
// already open one (such as ipvstest's fake). Each method is one request;
// Apply sends many operations pipelined (Config.BatchSize requests per
// message to the kernel, one acknowledgement per batch), which is what makes
// restoring thousands of rules fast:
//
//	c, err := ipvs.Dial(nil)
//	if err != nil { ... } // errors.Is(err, ipvs.ErrNotAvailable) without IPVS
//	defer c.Close()
//	svc := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80, Scheduler: "wlc"}
//	err = c.CreateService(svc)
//
// # Declarative use
//
// A Table is a list of services with their destinations. Plan(current,
// desired) computes the fewest operations between two tables (a weight change
// is an update, so established connections survive); Client.Reconcile reads
// the kernel's table, plans and applies, and Client.Plan stops before applying
// (a dry run). Applying the same desired table twice performs no writes the
// second time. ReadTable reads a desired table from -A and -a lines, and
// WriteOps prints a plan as ipvsadm command lines.
//
// # Connection sync daemons
//
// Daemons lists the master and backup sync daemons as ipvsadm -L --daemon
// does (WriteDaemons prints them so); StartDaemon and StopDaemon start and
// stop one. EnsureDaemon makes the daemon of a state run with the given
// settings (a setting left zero matches the kernel's default: port 8848,
// TTL 1, group 224.0.0.81, a maximum length from the interface's MTU),
// replacing one that differs, and EnsureNoDaemon stops one if it runs:
// what a node does when its VRRP state changes.
//
// # ipvsadm compatibility
//
// WriteList and WriteRules print a table exactly as ipvsadm -Ln and
// ipvsadm -Sn do (same sorting, same columns), and Client.List and
// Client.Save print the kernel's; ParseRules reads the lines of ipvsadm -S
// into operations, and Client.Restore applies them as ipvsadm -R does,
// reporting failed operations by line. ParseTimeouts reads the arguments of
// ipvsadm --set.
//
// # Errors
//
// Failed requests return an *OpError naming the operation and the object; it
// unwraps to the kernel's errno and matches the sentinels ErrNotAvailable,
// ErrExists, ErrServiceNotFound, ErrDestinationNotFound,
// ErrSchedulerNotAvailable and ErrDaemonNotRunning with errors.Is.
//
// # Privileges and network namespaces
//
// Every IPVS request, reads included, needs CAP_NET_ADMIN. The IPVS table
// belongs to a network namespace: Config.NetNS (a namespace file descriptor)
// selects the namespace of the connection (entering it needs CAP_SYS_ADMIN)
// without moving the caller into it. Dial opens only a generic netlink
// connection. The kernel needs CONFIG_IP_VS (module ip_vs, loaded beforehand
// where modules are not loaded on demand) and one module per scheduler
// (ip_vs_rr, ip_vs_wlc, ...).
//
// Dial is implemented on Linux only; elsewhere it returns an error.
package ipvs
