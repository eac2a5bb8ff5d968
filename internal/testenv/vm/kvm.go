package vm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// kvmProbeTimeout bounds the probe boot. With working KVM the kernel
// prints its banner within a second or two.
const kvmProbeTimeout = 30 * time.Second

var kvmOnce struct {
	sync.Once
	ok bool
}

// kvmWorks reports whether qemu can boot k's kernel with KVM. An openable
// /dev/kvm is not enough: under nested virtualisation the outer hypervisor
// may refuse what qemu asks (qemu 7.2 aborts on a refused MSR write with
// -cpu host), or the guest may hang before its first console line. The
// verdict of a probe boot is kept next to the kernel, so it is paid once
// per machine, and in memory for the process. LVSKIT_VM_KVM=0 or 1 forces
// the answer.
func kvmWorks(ctx context.Context, qemu string, k *Kernel) bool {
	switch os.Getenv("LVSKIT_VM_KVM") {
	case "0":
		return false
	case "1":
		return true
	}
	kvmOnce.Do(func() { kvmOnce.ok = probeKVM(ctx, qemu, k) })
	return kvmOnce.ok
}

func probeKVM(ctx context.Context, qemu string, k *Kernel) bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	verdict := filepath.Join(filepath.Dir(k.Vmlinuz()), "kvm-verdict")
	if b, err := os.ReadFile(verdict); err == nil {
		return strings.TrimSpace(string(b)) == "works"
	}
	ctx, cancel := context.WithTimeout(ctx, kvmProbeTimeout)
	defer cancel()
	// No root file system: the kernel prints its banner, panics and,
	// with panic=-1 and -no-reboot, qemu exits.
	cmd := exec.CommandContext(ctx, qemu, "-enable-kvm", "-cpu", "host", "-m", "256",
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", k.Vmlinuz(), "-append", "console=ttyS0 panic=-1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	if ctx.Err() != nil && ctx.Err() != context.DeadlineExceeded {
		return false // cancelled: no verdict to keep
	}
	ok := bytes.Contains(out.Bytes(), []byte("Linux version"))
	word := "fails"
	if ok {
		word = "works"
	}
	os.WriteFile(verdict, []byte(word+"\n"), 0o644)
	return ok
}
