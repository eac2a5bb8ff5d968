package scaleout

// Modules are the kernel modules the topology needs: IPVS with the mh and
// rr schedulers. A VM booted to run it loads them (see internal/testenv/vm).
var Modules = []string{"ip_vs", "ip_vs_mh", "ip_vs_rr"}
