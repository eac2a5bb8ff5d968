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
	"vrrp_higher_prio_send_advert": "already so: a lbnode MASTER that yields to a higher priority sends one advert at its own priority first, whatever this setting (but in strict mode)",
	"vrrp_check_unicast_src":       "already so: lbnode accepts unicast adverts only from the unicast_peer addresses",
}

// globalNote is the warning for a global_defs setting read without effect.
func globalNote(name string) string {
	if note, ok := globalNotes[name]; ok {
		return note
	}
	return "global setting ignored"
}
