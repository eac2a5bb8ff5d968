package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultCacheDir is where [Prepare] keeps the unpacked kernel unless told
// otherwise; the environment variable LVSKIT_VM_CACHE overrides it.
const DefaultCacheDir = "/var/cache/lvskit/vm"

// Kernel is an unpacked Debian kernel package ready to boot.
type Kernel struct {
	// Version is the kernel release, such as "6.1.0-56-amd64".
	Version string
	// Root holds the unpacked package: boot/vmlinuz-<Version> and
	// lib/modules/<Version> with its depmod output.
	Root string
}

// Vmlinuz returns the path of the kernel image.
func (k *Kernel) Vmlinuz() string {
	return filepath.Join(k.Root, "boot", "vmlinuz-"+k.Version)
}

// ModulesDir returns the folder holding the kernel's modules.
func (k *Kernel) ModulesDir() string {
	return filepath.Join(k.Root, "lib", "modules", k.Version)
}

// CacheDir returns the kernel cache folder in use: LVSKIT_VM_CACHE, or
// [DefaultCacheDir].
func CacheDir() string {
	if d := os.Getenv("LVSKIT_VM_CACHE"); d != "" {
		return d
	}
	return DefaultCacheDir
}

var imagePackage = regexp.MustCompile(`Depends: (linux-image-([0-9][^ \n]*-amd64))\n`)

// Prepare returns the kernel in cacheDir, fetching and unpacking Debian's
// current linux-image package there first if the cache holds none. Progress
// goes to log.
func Prepare(ctx context.Context, cacheDir string, log io.Writer) (*Kernel, error) {
	if k, err := cached(cacheDir); err == nil {
		return k, nil
	}
	for _, tool := range []string{"apt-cache", "apt-get", "dpkg", "depmod"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("vm: preparing the kernel needs %s (Debian's apt, dpkg and kmod): %w", tool, err)
		}
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("vm: apt-cache depends linux-image-amd64: %v: %s", err, out)
	}
	m := imagePackage.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("vm: no versioned kernel package in `apt-cache depends linux-image-amd64` (run apt-get update?): %s", out)
	}
	pkg, version := string(m[1]), string(m[2])
	fmt.Fprintf(log, "vm: fetching %s into %s\n", pkg, cacheDir)

	dl := filepath.Join(cacheDir, "download")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	// apt's sandbox user cannot write to a root-owned folder; this is a
	// download of a public package, so fetching as root is fine.
	get := exec.CommandContext(ctx, "apt-get", "download", "-o", "APT::Sandbox::User=root", pkg)
	get.Dir = dl
	if out, err := get.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vm: apt-get download %s: %v: %s", pkg, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, pkg+"_*.deb"))
	if len(debs) == 0 {
		return nil, fmt.Errorf("vm: apt-get download %s left no .deb in %s", pkg, dl)
	}
	root := filepath.Join(cacheDir, version)
	tmp := root + ".partial"
	_ = os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg", "-x", debs[len(debs)-1], tmp).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vm: dpkg -x %s: %v: %s", debs[len(debs)-1], err, out)
	}
	if out, err := exec.CommandContext(ctx, "depmod", "-b", tmp, version).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vm: depmod -b %s %s: %v: %s", tmp, version, err, out)
	}
	_ = os.RemoveAll(root)
	if err := os.Rename(tmp, root); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cacheDir, "current"), []byte(version+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	for _, d := range debs {
		_ = os.Remove(d)
	}
	return cached(cacheDir)
}

func cached(cacheDir string) (*Kernel, error) {
	b, err := os.ReadFile(filepath.Join(cacheDir, "current"))
	if err != nil {
		return nil, err
	}
	version := string(bytes.TrimSpace(b))
	if version == "" || strings.ContainsAny(version, "/ ") {
		return nil, fmt.Errorf("vm: bad kernel version %q in the cache", version)
	}
	k := &Kernel{Version: version, Root: filepath.Join(cacheDir, version)}
	for _, p := range []string{k.Vmlinuz(), filepath.Join(k.ModulesDir(), "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return nil, errors.New("vm: incomplete kernel cache: " + err.Error())
		}
	}
	return k, nil
}
