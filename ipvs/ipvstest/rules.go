package ipvstest

import (
	"fmt"
	"strings"
)

// Rules returns ipvsadm -S input: services -A lines, each followed by
// destsPer -a lines. Together they cover protocols, families, firewall marks,
// schedulers, persistence, flags, forwarding methods, tunnels, weights and
// thresholds, with addresses that exercise ipvsadm's sort. The destinations
// lie in 10.0.0.0/8, 172.16.0.0/12, 200.0.0.0/8 and 2001:db8::/32, which the
// kernel wants routed.
func Rules(services, destsPer int) string {
	scheds := []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}
	var b strings.Builder
	for i := range services {
		sched := scheds[i%len(scheds)]
		var svc string
		v6 := false
		switch i % 7 {
		case 0, 1:
			svc = fmt.Sprintf("-t %d.%d.%d.%d:%d", []int{10, 200, 192}[i%3], i/250, i%250, 1+i%7, 80+i%5)
		case 2:
			svc = fmt.Sprintf("-u 192.168.%d.%d:%d", i/250, i%250, 53+i%3)
		case 3:
			svc = fmt.Sprintf("--sctp-service 172.16.%d.%d:%d", i/250, i%250, 3868)
		case 4:
			svc = fmt.Sprintf("-t [2001:db8:%x::%x]:%d", i, i%9+1, 443)
			v6 = true
		case 5:
			svc = fmt.Sprintf("-f %d", 100+i)
		case 6:
			svc = fmt.Sprintf("-f %d -6", 100+i)
			v6 = true
		}
		line := "-A " + svc + " -s " + sched
		if i%4 == 1 {
			line += fmt.Sprintf(" -p %d", 60*(1+i%5))
			if v6 {
				line += fmt.Sprintf(" -M %d", 48+i%3*8)
			} else if i%8 == 1 {
				line += " -M 255.255.255.0"
			}
		}
		if strings.HasPrefix(svc, "-u") && i%2 == 0 {
			line += " -o"
		}
		if sched == "sh" || sched == "mh" {
			line += " -b " + sched + "-port"
		}
		b.WriteString(line + "\n")
		for j := range destsPer {
			var r string
			if v6 {
				r = fmt.Sprintf("[2001:db8:ff::%x:%x]", i, j+1)
			} else {
				prefix := []string{fmt.Sprintf("10.%d", 1+j), fmt.Sprintf("172.%d", 16+j), fmt.Sprintf("200.%d", 1+j)}[j%3]
				r = fmt.Sprintf("%s.%d.%d", prefix, i/250, i%250+1)
			}
			fwd := []string{"-g", "-m", "-i"}[(i+j)%3]
			port := ":" + fmt.Sprint(8000+j)
			if strings.HasPrefix(svc, "-f") {
				port = ":0"
			}
			d := fmt.Sprintf("-a %s -r %s%s %s -w %d", svc, r, port, fwd, (i*7+j)%11)
			if j%4 == 3 {
				d += fmt.Sprintf(" -x %d -y %d", 1000+j, 10+j)
			}
			if fwd == "-i" {
				switch (i + j) % 4 {
				case 1:
					d += " --tun-type gue --tun-port 6080 --tun-csum"
				case 2:
					d += " --tun-type gre --tun-nocsum"
				case 3:
					d += " --tun-type ipip"
				}
			}
			b.WriteString(d + "\n")
		}
	}
	return b.String()
}
