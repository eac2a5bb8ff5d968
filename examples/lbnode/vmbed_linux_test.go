package main

import (
	"net"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// listenIn listens on the TCP address addr inside ns.
func listenIn(t *testing.T, ns *netnstest.NS, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ln
}

// closingServer is a real server on addr inside ns that accepts each
// connection and closes it, enough for a TCP_CHECK; close the listener to
// take it down.
func closingServer(t *testing.T, ns *netnstest.NS, addr string) net.Listener {
	t.Helper()
	ln := listenIn(t, ns, addr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}
