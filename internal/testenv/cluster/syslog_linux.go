package cluster

import (
	"fmt"
	"net"
	"os"
)

// DiscardSyslog listens on /dev/log, when nothing does, and discards what
// it receives, as a syslog daemon would take it. A test VM runs no syslog
// daemon, and glibc's syslog() then writes to the console, an emulated
// serial port that is very costly to write to.
func DiscardSyslog() (stop func(), err error) {
	const path = "/dev/log"
	if _, err := os.Stat(path); err == nil {
		return func() {}, nil
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("syslog sink on %s: %w", path, err)
	}
	go func() {
		buf := make([]byte, 16*1024)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return func() {
		c.Close()
		os.Remove(path)
	}, nil
}
