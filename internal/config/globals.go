package config

// globalNotes say, for keepalived's global_defs settings that this reader
// accepts without acting on them, why; any other unknown setting is
// "ignored" with a warning too. None of them changes what goes on the
// wire between a node and its keepalived peers beyond what the note says.
var globalNotes = map[string]string{
	// Tuning of keepalived's own processes: the Go runtime schedules
	// lbnode's goroutines and the kernel its process.
	"max_auto_priority":    "no meaning for lbnode: it does not raise its scheduling priority",
	"vrrp_priority":        "no meaning for lbnode: it does not change its process priority",
	"checker_priority":     "no meaning for lbnode: it does not change its process priority",
	"bfd_priority":         "no meaning for lbnode: it does not change its process priority",
	"vrrp_no_swap":         "no meaning for lbnode: it does not lock its memory",
	"checker_no_swap":      "no meaning for lbnode: it does not lock its memory",
	"bfd_no_swap":          "no meaning for lbnode: it does not lock its memory",
	"vrrp_rt_priority":     "no meaning for lbnode: it does not use real-time scheduling",
	"checker_rt_priority":  "no meaning for lbnode: it does not use real-time scheduling",
	"vrrp_cpu_affinity":    "no meaning for lbnode: it does not pin itself to processors",
	"checker_cpu_affinity": "no meaning for lbnode: it does not pin itself to processors",
	"vrrp_rlimit_rttime":   "no meaning for lbnode: it does not use real-time scheduling",
	"vrrp_process_name":    "no meaning for lbnode: it runs as one process",
	"checker_process_name": "no meaning for lbnode: it runs as one process",
	"process_names":        "no meaning for lbnode: it runs as one process",
	// VRRP behaviour lbnode does not have: said plainly, as it differs
	// from a keepalived node reading the same file.
	"vrrp_higher_prio_send_advert":     "already so: a lbnode MASTER that yields to a higher priority sends one advert at its own priority first, whatever this setting (but in strict mode)",
	"vrrp_check_unicast_src":           "already so: lbnode accepts unicast adverts only from the unicast_peer addresses",
	"disable_local_igmp":               "not supported: lbnode leaves net.ipv4.igmp_link_local_mcast_reports as it is",
	"rs_init_notifies":                 "not supported: lbnode runs no real server's notify program at start",
	"dynamic_interfaces":               "not supported: lbnode needs an instance's interfaces at start",
	"default_interface":                "not supported: lbnode needs each instance's interface written",
	"vmac_addr_prefix":                 "not supported: lbnode's VMACs have the RFC's addresses (00:00:5e:00:01:VRID)",
	"nftables_ipvs":                    "no meaning for lbnode: it writes its IPVS services itself",
	"nftables_ipvs_priority":           "no meaning for lbnode: it writes its IPVS services itself",
	"nftables_ipvs_start_fwmark":       "no meaning for lbnode: it writes its IPVS services itself",
	"fifo_write_vrrp_states_on_reload": "not supported: lbnode writes a FIFO line on a change of state only",
	"checker_log_all_failures":         "not supported: lbnode logs every health transition and not each failure",
	"log_unknown_vrids":                "not supported: lbnode does not log adverts of VRIDs it does not run",
	"umask":                            "not supported: lbnode creates its files with its own modes",
	// keepalived's own machinery, with no counterpart in one Go process.
	"process_name":            "no meaning for lbnode: it runs as one process",
	"lvs_process_name":        "no meaning for lbnode: it runs as one process",
	"bfd_process_name":        "no meaning for lbnode: it runs as one process",
	"min_auto_priority_delay": "no meaning for lbnode: it does not raise its scheduling priority",
	"vrrp_rlimit_rtime":       "no meaning for lbnode: it does not use real-time scheduling",
	"checker_rlimit_rttime":   "no meaning for lbnode: it does not use real-time scheduling",
	"checker_rlimit_rtime":    "no meaning for lbnode: it does not use real-time scheduling",
	"bfd_rt_priority":         "no meaning for lbnode: it has no BFD process",
	"bfd_cpu_affinity":        "no meaning for lbnode: it has no BFD process",
	"bfd_rlimit_rttime":       "no meaning for lbnode: it has no BFD process",
	"bfd_rlimit_rtime":        "no meaning for lbnode: it has no BFD process",
	"vrrp_ipsets":             "no meaning for lbnode: it uses no ipsets",
	"random_seed":             "no meaning for lbnode",
	"reload_check_config":     "no meaning for lbnode: a reload (SIGHUP) checks the new file before applying it",
	"reload_time_file":        "not supported: lbnode reloads on SIGHUP only",
	"reload_repeat":           "not supported: lbnode reloads on SIGHUP only",
	"reload_file":             "not supported: lbnode reloads on SIGHUP only",
	"include_check":           "no meaning for lbnode",
	"config_save_dir":         "no meaning for lbnode",
	"tmp_config_directory":    "no meaning for lbnode",
	"data_use_instance":       "no meaning for lbnode",
}

// globalNote is the warning for a global_defs setting read without effect.
func globalNote(name string) string {
	if note, ok := globalNotes[name]; ok {
		return note
	}
	return "global setting ignored"
}
