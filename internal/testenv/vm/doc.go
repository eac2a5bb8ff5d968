// Package vm runs a program as root inside a throwaway qemu VM that boots
// Debian's kernel (see internal/testenv): the kernel of a development
// machine or CI runner may lack IPVS, while Debian's ships it and nftables
// as modules.
//
// [Prepare] fetches the kernel package that Debian's linux-image-amd64
// depends on with `apt-get download` and unpacks it with `dpkg -x` into a
// cache folder (by default /var/cache/lvskit/vm), without installing it;
// later runs reuse it. [Run] boots that kernel with a small initramfs (KVM
// when a probe boot shows it works, whose verdict is kept beside the
// kernel; LVSKIT_VM_KVM=0 or 1 forces it), loads [Config.Modules], runs the program,
// streams the guest's console to the caller and returns the program's exit
// code. The guest sees the host's root filesystem read-only over 9p, so the
// host's programs (ipvsadm, nginx, keepalived, ip) run unchanged; /tmp and
// /run are fresh, and a scratch folder of the host is shared read-write. A
// timeout, a cancelled context or the death of the calling process kills
// qemu.
//
// Needs: root (apt-get, depmod), qemu-system-x86, busybox-static, kmod.
package vm
