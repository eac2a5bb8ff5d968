// Package vm runs a program as root inside a throwaway virtual machine that
// boots a Debian kernel under qemu. It is lvskit's VM test tier: the kernel of
// a development machine or CI runner may lack IPVS, while Debian's kernel
// ships it (and nftables) as modules.
//
// The guest sees the host's root filesystem read-only over 9p, so the host's
// programs (ipvsadm, nginx, keepalived, ip) and the program under test run
// unchanged. /tmp and /run are fresh tmpfs mounts, and a scratch folder of the
// host is shared read-write at the same path. The kernel's module autoloader
// finds the Debian kernel's modules, and modules named in [Config.Modules] are
// loaded before the program starts.
//
// # Kernel cache
//
// [Prepare] fetches the kernel package that Debian's linux-image-amd64
// depends on with `apt-get download` and unpacks it with `dpkg -x` into a
// cache folder (by default /var/cache/lvskit/vm), without installing it:
// /boot and the host's modules stay untouched. It then runs depmod on the
// unpacked tree. Later runs reuse the cache.
//
// # Running
//
// [Run] builds an initramfs (busybox-static, an /init script and the virtio
// and 9p modules), boots qemu with software emulation (KVM when /dev/kvm is
// usable), streams the guest's console to the caller, and returns the
// program's exit code, which the guest prints as a marker line before it
// powers off. A timeout or a cancelled context kills qemu; qemu is also
// killed if the calling process dies.
//
// Needs: root (apt-get, depmod), qemu-system-x86, busybox-static, kmod.
package vm
