package vm

import (
	"os"
	"os/exec"
)

// InGuest reports whether this process runs inside an lvskit VM.
func InGuest() bool { return os.Getenv("LVSKIT_IN_VM") == "1" }

// HostHasIPVS reports whether this kernel offers IPVS, loading modules
// (ip_vs and the schedulers a caller needs) with modprobe first where it
// can, as root.
func HostHasIPVS(modules []string) bool {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return true
	}
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("modprobe"); err != nil {
		return false
	}
	if err := exec.Command("modprobe", append([]string{"-a"}, modules...)...).Run(); err != nil {
		return false
	}
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}
