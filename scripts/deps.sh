#!/usr/bin/env bash
# Installs, on Debian and as root, the packages lvskit's test tiers and demo
# use, when any is missing. Elsewhere it says what it cannot do and exits 0:
# the tiers that need a missing tool then skip (or fail under
# LVSKIT_REQUIRE_PRIVILEGED=1) with the reason.
set -euo pipefail

packages=(
  iproute2 iputils-ping nftables      # netns tier: namespaces, veth, bridges, nft
  keepalived tcpdump tshark           # VRRP interop peer and independent decoder
  nginx libnginx-mod-stream           # proxyconf and the demo's balancers
  netcat-openbsd                      # the article's MISC_CHECK (nc -zn -u)
  ipvsadm                             # the independent IPVS tool
  frr                                 # zebra, bgpd, bfdd as the scale-out router; vrrpd for VRRP interop
  qemu-system-x86 busybox-static kmod # VM tier: Debian kernel under qemu
)

if [ ! -r /etc/debian_version ]; then
  echo "deps: not Debian: not installing ${packages[*]}; privileged tiers may skip" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: not root: not installing packages; privileged tiers will skip" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
# Installed daemons (nginx, keepalived) must not start in the root namespace:
# forbid service starts for the duration of the install unless a policy is
# already in place.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
