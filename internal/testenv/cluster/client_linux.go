package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// HTTPGet fetches http://ADDR/ from inside ns on a fresh connection (as the
// article's `nc` loop does) and returns the body.
func HTTPGet(ns *topology.NS, addr netip.AddrPort, timeout time.Duration) (string, error) {
	return Fetch(ns, "http://"+addr.String()+"/", timeout)
}

// Fetch GETs url from inside ns on a fresh connection and returns the body;
// a status other than 200 is an error.
func Fetch(ns *topology.NS, url string, timeout time.Duration) (string, error) {
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			var c net.Conn
			err := ns.Do(func() (err error) {
				c, err = (&net.Dialer{Timeout: timeout}).DialContext(ctx, network, a)
				return err
			})
			return c, err
		},
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: timeout}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// DNSQuery sends one A query for name from inside ns to addr on a fresh
// socket and returns the answered address.
func DNSQuery(ns *topology.NS, addr netip.AddrPort, name string, id uint16, timeout time.Duration) (netip.Addr, error) {
	var c net.Conn
	if err := ns.Do(func() (err error) { c, err = net.Dial("udp4", addr.String()); return err }); err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return QueryA(c, name, id, timeout)
}
