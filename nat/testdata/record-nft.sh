#!/bin/sh
# Records the netlink messages that nft(8) sends for the commands the nat
# package issues, as the golden file nft-netlink.txt read by TestMessagesMatchNft.
#
# Run as root on Linux with nft and strace installed:
#   sh nat/testdata/record-nft.sh > nat/testdata/nft-netlink.txt
#
# Each command runs under strace inside a fresh network namespace, so the
# host's ruleset is never touched. strace dumps the bytes of the sendmsg
# call that carries the batch; this script splits that buffer into netlink
# messages, drops the batch begin and end, and prints for every other message
# its type, its flags and its payload (everything after the 16-byte netlink
# header) in hex.
set -eu

ns="natrecord$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT INT TERM

record() {
	echo "# nft $*"
	ip netns exec "$ns" strace -qq -x -s 65535 -e trace=sendmsg -e write=all -o /dev/stdout nft "$@" |
		awk '
		function hex(s,   i, v) {
			v = 0
			for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		/^sendmsg\(/ { inbuf = 1; n = 0; next }
		inbuf && /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / {
			# The hex bytes fill columns 11-59; the text rendering follows.
			m = split(substr($0, 11, 49), f, " ")
			for (i = 1; i <= m; i++) b[n++] = f[i]
			next
		}
		inbuf && !/^ \* / { inbuf = 0 }
		END {
			off = 0
			while (off + 16 <= n) {
				len = hex(b[off+3] b[off+2] b[off+1] b[off])
				typ = hex(b[off+5] b[off+4])
				flags = hex(b[off+7] b[off+6])
				if (typ != 16 && typ != 17) {
					p = ""
					for (i = off + 16; i < off + len; i++) p = p b[i]
					printf "type=0x%04x flags=0x%04x payload=%s\n", typ, flags, p
				}
				off += int((len + 3) / 4) * 4
			}
		}'
}

record add table ip lvskit_nat
record add chain ip lvskit_nat prerouting '{ type nat hook prerouting priority dstnat; }'
record add rule ip lvskit_nat prerouting iifname '"eth1"' ip daddr 192.168.0.100 dnat to 172.16.0.2
record add rule ip lvskit_nat prerouting iifname '"eth1"' ip daddr 192.168.0.101 dnat to 172.16.0.2
record delete rule ip lvskit_nat prerouting handle 2
record delete table ip lvskit_nat
record add table ip6 lvskit_nat
record add chain ip6 lvskit_nat prerouting '{ type nat hook prerouting priority dstnat; }'
record add rule ip6 lvskit_nat prerouting iifname '"eth1"' ip6 daddr fd00::100 dnat to fd00::2
record delete rule ip6 lvskit_nat prerouting handle 2
record delete table ip6 lvskit_nat
