package vm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// bootModules are loaded by the initramfs, in this order, to mount the
// host's root over virtio 9p.
var bootModules = []string{
	"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
	"netfs", "fscache", "9pnet", "9pnet_virtio", "9p",
}

// exitMarker starts the console line on which the guest reports the
// program's exit code.
const exitMarker = "LVSKIT_VM_EXIT="

// startMarker is the console line the guest prints just before it starts
// the program.
const startMarker = "LVSKIT_VM_START"

// initScript is the initramfs's /init. It mounts the host root read-only
// (with the cache mode lvskit.rootcache names, if any),
// moves the kernel file systems under it and switches root; switch_root
// moves the new root over "/", so the kernel's module autoloader sees the
// host's files from then on. The second stage mounts tmpfs on /run and
// /tmp (keeping the host's /tmp reachable under /run/hosttmp), mounts the
// scratch share and runs the run script found there.
const initScript = `#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in %s; do
	$B insmod /modules/$m.ko || echo "lvskit-vm: insmod $m failed"
done
scratch=$($B sed -n 's/.*lvskit.scratch=\([^ ]*\).*/\1/p' /proc/cmdline)
rootcache=$($B sed -n 's/.*lvskit.rootcache=\([a-z]*\).*/,cache=\1/p' /proc/cmdline)
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144$rootcache hostroot /mnt || {
	echo "lvskit-vm: cannot mount the host root"; echo "` + exitMarker + `125"; $B poweroff -f; }
$B mount --move /dev /mnt/dev
$B mount --move /proc /mnt/proc
$B mount --move /sys /mnt/sys
exec $B switch_root /mnt /bin/sh -c "mount -t tmpfs run /run && mkdir /run/hosttmp && mount --bind /tmp /run/hosttmp && mount -t tmpfs -o mode=1777 tmp /tmp && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 scratch $scratch && exec /bin/sh $scratch/run.sh; echo ` + exitMarker + `125; busybox poweroff -f"
`

// buildInitramfs writes the gzip-compressed initramfs for kernel k to path.
func buildInitramfs(path string, k *Kernel, busybox string) error {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	for _, d := range []string{"bin", "dev", "proc", "sys", "mnt", "modules"} {
		w.Dir(d)
	}
	w.CharDev("dev/console", 5, 1)
	w.CharDev("dev/null", 1, 3)
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("vm: reading busybox (install busybox-static): %w", err)
	}
	w.File("bin/busybox", 0o755, bb)
	w.File("init", 0o755, []byte(fmt.Sprintf(initScript, strings.Join(bootModules, " "))))
	for _, m := range bootModules {
		p, err := findModule(k, m)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("vm: %w", err)
		}
		w.File("modules/"+m+".ko", 0o644, data)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("vm: writing the initramfs: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// findModule returns the path of module name (with '-' and '_' alike) in
// k's modules.dep.
func findModule(k *Kernel, name string) (string, error) {
	dep, err := os.ReadFile(filepath.Join(k.ModulesDir(), "modules.dep"))
	if err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	want := strings.ReplaceAll(name, "-", "_") + ".ko"
	for _, line := range strings.Split(string(dep), "\n") {
		file, _, _ := strings.Cut(line, ":")
		if strings.ReplaceAll(filepath.Base(file), "-", "_") == want {
			return filepath.Join(k.ModulesDir(), file), nil
		}
	}
	return "", fmt.Errorf("vm: module %s not found in kernel %s", name, k.Version)
}

// runScript returns the guest's run script: environment, module loading,
// the program in its folder, and the exit marker.
func runScript(k *Kernel, cfg *Config, argv []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp GOCACHE=/tmp/gocache GOTMPDIR=/tmp LVSKIT_IN_VM=1\n")
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	// The kernel's autoloader and explicit loads both use the Debian
	// kernel's module tree from the read-only cache.
	fmt.Fprintf(&b, "printf '#!/bin/sh\\nexec /sbin/modprobe -d %s \"$@\"\\n' > /run/modprobe && chmod 755 /run/modprobe\n", shellQuote(k.Root))
	b.WriteString("echo /run/modprobe > /proc/sys/kernel/modprobe\n")
	b.WriteString("ip link set lo up\n")
	b.WriteString("mount -t bpf bpf /sys/fs/bpf 2>/dev/null\n")
	if len(cfg.Modules) > 0 {
		q := make([]string, len(cfg.Modules))
		for i, m := range cfg.Modules {
			q[i] = shellQuote(m)
		}
		fmt.Fprintf(&b, "/run/modprobe -a %s || echo 'lvskit-vm: loading modules failed: %s'\n", strings.Join(q, " "), strings.Join(cfg.Modules, " "))
	}
	fmt.Fprintf(&b, "echo %s\n", startMarker)
	// A working folder under the host's /tmp (a checkout there, say) is
	// hidden by the guest's tmpfs: bind it back, read-only as the rest.
	if top, ok := tmpTop(cfg.Dir); ok {
		fmt.Fprintf(&b, "mkdir -p %[1]s && mount --bind %[2]s %[1]s\n", shellQuote(top), shellQuote("/run/hosttmp"+strings.TrimPrefix(top, "/tmp")))
	}
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	fmt.Fprintf(&b, "(cd %s && exec %s)\n", shellQuote(cfg.Dir), strings.Join(q, " "))
	fmt.Fprintf(&b, "rc=$?\nsync\necho \"%s$rc\"\nbusybox poweroff -f\n", exitMarker)
	return b.String()
}

// tmpTop returns the folder directly under /tmp that holds dir, if dir is
// under /tmp.
func tmpTop(dir string) (string, bool) {
	rest, ok := strings.CutPrefix(filepath.Clean(dir), "/tmp/")
	if !ok || rest == "" {
		return "", false
	}
	first, _, _ := strings.Cut(rest, "/")
	return "/tmp/" + first, true
}

// exitLine matches the marker alone on a line.
var exitLine = regexp.MustCompile(`^\s*` + exitMarker + `([0-9]+)\s*$`)

var safeShellWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if safeShellWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseExit returns the exit code reported on a console line, if the line
// is the marker.
func parseExit(line string) (int, bool) {
	m := exitLine.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false
	}
	return n, true
}
