package cluster

// Modules are the kernel modules the cluster needs: IPVS with the wlc
// scheduler, and nftables NAT for natswitch. A VM booted to run the
// cluster loads them (see internal/testenv/vm).
var Modules = []string{"ip_vs", "ip_vs_wlc", "nf_conntrack", "nf_nat", "nft_chain_nat", "nft_nat"}
