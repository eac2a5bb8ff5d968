package config_test

import (
	"fmt"

	"github.com/lvskit/lvskit/internal/config"
)

func ExampleParseKeepalived() {
	c, err := config.ParseKeepalived("keepalived.conf", []byte(`
vrrp_instance VI_1 {
    interface eth1
    virtual_router_id abc
}
`))
	fmt.Println(err)

	c, err = config.ParseKeepalived("keepalived.conf", []byte(`
vrrp_instance VI_1 {
    interface eth1
    virtual_router_id 1
    priority 102
    virtual_ipaddress {
        192.168.0.100/24 dev eth0
    }
}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	in := c.VRRP[0]
	fmt.Println(in.Name, in.Interface, in.VirtualRouterID, in.Priority, in.AdvertInt, in.VirtualIPs[0].Prefix, in.VirtualIPs[0].Dev)
	// Output:
	// keepalived.conf:4: virtual_router_id: "abc" is not a number 1-255
	// VI_1 eth1 1 102 1s 192.168.0.100/24 eth0
}
