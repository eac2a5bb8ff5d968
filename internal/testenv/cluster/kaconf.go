package cluster

import (
	"fmt"
	"strings"
)

// KeepalivedConf returns the article's keepalived.conf (article, whose
// first balancer has priority 102 and the notify program
// /usr/local/bin/nat-switch) for a balancer of priority prio whose notify
// line is notify.
func KeepalivedConf(article string, prio int, notify string) (string, error) {
	for _, s := range []string{"priority 102", "notify /usr/local/bin/nat-switch"} {
		if strings.Count(article, s) != 1 {
			return "", fmt.Errorf("keepalived.conf: %q not found once: not the article's file", s)
		}
	}
	s := strings.Replace(article, "priority 102", fmt.Sprintf("priority %d", prio), 1)
	return strings.Replace(s, "notify /usr/local/bin/nat-switch", "notify "+notify, 1), nil
}
