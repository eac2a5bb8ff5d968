package config

import "go.yaml.in/yaml/v3"

// The YAML format uses keepalived's directive names as keys. Every scalar
// is kept as a yaml.Node so that errors carry its line (an absent key
// leaves a zero Node); unknown keys are rejected by the decoder
// (KnownFields).

type yFile struct {
	Global         *yGlobal  `yaml:"global"`
	VRRP           []yVRRP   `yaml:"vrrp_instances"`
	VirtualServers []yVS     `yaml:"virtual_servers"`
	NAT            *yNAT     `yaml:"nat"`
	Nginx          *yNginx   `yaml:"nginx"`
	BGP            *yBGP     `yaml:"bgp"`
	Sysctls        yaml.Node `yaml:"sysctls"`
}

type yGlobal struct {
	RouterID             yaml.Node `yaml:"router_id"`
	EnableScriptSecurity yaml.Node `yaml:"enable_script_security"`
	ScriptUser           yaml.Node `yaml:"script_user"`
	ScriptGroup          yaml.Node `yaml:"script_group"`
	DontReleaseIPVS      yaml.Node `yaml:"dont_release_ipvs"`
	// The VRRP wire protocol, as keepalived's global_defs.
	VRRPVersion     yaml.Node `yaml:"vrrp_version"`
	VRRPMcastGroup4 yaml.Node `yaml:"vrrp_mcast_group4"`
	VRRPMcastGroup6 yaml.Node `yaml:"vrrp_mcast_group6"`
}

type yVRRP struct {
	Name             yaml.Node `yaml:"name"`
	Interface        yaml.Node `yaml:"interface"`
	State            yaml.Node `yaml:"state"`
	VirtualRouterID  yaml.Node `yaml:"virtual_router_id"`
	Priority         yaml.Node `yaml:"priority"`
	AdvertInt        yaml.Node `yaml:"advert_int"`
	Version          yaml.Node `yaml:"version"`
	NativeIPv6       yaml.Node `yaml:"native_ipv6"`
	Authentication   *yAuth    `yaml:"authentication"`
	Nopreempt        yaml.Node `yaml:"nopreempt"`
	PreemptDelay     yaml.Node `yaml:"preempt_delay"`
	VirtualIPAddress yaml.Node `yaml:"virtual_ipaddress"`
	TrackInterface   yaml.Node `yaml:"track_interface"`
	UnicastSrcIP     yaml.Node `yaml:"unicast_src_ip"`
	UnicastPeer      yaml.Node `yaml:"unicast_peer"`
	Notify           yaml.Node `yaml:"notify"`
	NotifyMaster     yaml.Node `yaml:"notify_master"`
	NotifyBackup     yaml.Node `yaml:"notify_backup"`
	NotifyFault      yaml.Node `yaml:"notify_fault"`
	NotifyStop       yaml.Node `yaml:"notify_stop"`
	// NotifyMasterRxLowerPri: keepalived's notify_master_rx_lower_pri.
	NotifyMasterRxLowerPri yaml.Node `yaml:"notify_master_rx_lower_pri"`
	GARPMasterDelay        yaml.Node `yaml:"garp_master_delay"`
	GARPMasterRepeat       yaml.Node `yaml:"garp_master_repeat"`
	GARPMasterRefresh      yaml.Node `yaml:"garp_master_refresh"`
	// keepalived's lower-priority settings: see VRRPInstance.
	GARPLowerPrioDelay  yaml.Node `yaml:"garp_lower_prio_delay"`
	GARPLowerPrioRepeat yaml.Node `yaml:"garp_lower_prio_repeat"`
	LowerPrioNoAdvert   yaml.Node `yaml:"lower_prio_no_advert"`
}

type yAuth struct {
	AuthType yaml.Node `yaml:"auth_type"`
	AuthPass yaml.Node `yaml:"auth_pass"`
}

type yVS struct {
	Address                yaml.Node `yaml:"address"`
	FWMark                 yaml.Node `yaml:"fwmark"`
	Protocol               yaml.Node `yaml:"protocol"`
	LBAlgo                 yaml.Node `yaml:"lb_algo"`
	SchedFlags             yaml.Node `yaml:"sched_flags"` // [mh-port, mh-fallback], keepalived's flag keywords
	OPS                    yaml.Node `yaml:"ops"`
	LBKind                 yaml.Node `yaml:"lb_kind"`
	DelayLoop              yaml.Node `yaml:"delay_loop"`
	PersistenceTimeout     yaml.Node `yaml:"persistence_timeout"`
	PersistenceGranularity yaml.Node `yaml:"persistence_granularity"`
	RealServers            []yRS     `yaml:"real_servers"`
}

type yRS struct {
	Address          yaml.Node  `yaml:"address"`
	Weight           yaml.Node  `yaml:"weight"`
	InhibitOnFailure yaml.Node  `yaml:"inhibit_on_failure"`
	Checkers         []yChecker `yaml:"checkers"`
}

type yChecker struct {
	Type             yaml.Node `yaml:"type"`
	ConnectIP        yaml.Node `yaml:"connect_ip"`
	ConnectPort      yaml.Node `yaml:"connect_port"`
	ConnectTimeout   yaml.Node `yaml:"connect_timeout"`
	Retry            yaml.Node `yaml:"retry"`
	DelayBeforeRetry yaml.Node `yaml:"delay_before_retry"`
	URL              []yURL    `yaml:"url"`
	VirtualHost      yaml.Node `yaml:"virtualhost"`
	MiscPath         yaml.Node `yaml:"misc_path"`
	MiscTimeout      yaml.Node `yaml:"misc_timeout"`
	MiscDynamic      yaml.Node `yaml:"misc_dynamic"`
	Name             yaml.Node `yaml:"name"`
	QueryType        yaml.Node `yaml:"query_type"`
}

type yURL struct {
	Path       yaml.Node `yaml:"path"`
	Digest     yaml.Node `yaml:"digest"`
	StatusCode yaml.Node `yaml:"status_code"`
}

type yNAT struct {
	VRRPInstance yaml.Node `yaml:"vrrp_instance"`
	Interface    yaml.Node `yaml:"interface"`
	VIPs         yaml.Node `yaml:"vips"`
	LocalAddress yaml.Node `yaml:"local_address"`
}

type yNginx struct {
	Prefix yaml.Node `yaml:"prefix"`
	HTTP   []ySite   `yaml:"http"`
	Stream []yStream `yaml:"stream"`
}

type ySite struct {
	Name      yaml.Node     `yaml:"name"`
	Upstreams []yUpstream   `yaml:"upstreams"`
	Servers   []yHTTPServer `yaml:"servers"`
}

type yStream struct {
	Name      yaml.Node       `yaml:"name"`
	Upstreams []yUpstream     `yaml:"upstreams"`
	Servers   []yStreamServer `yaml:"servers"`
}

type yUpstream struct {
	Name    yaml.Node `yaml:"name"`
	Method  yaml.Node `yaml:"method"`
	Servers yaml.Node `yaml:"servers"`
}

type yHTTPServer struct {
	Listen     yaml.Node   `yaml:"listen"`
	ServerName yaml.Node   `yaml:"server_name"`
	Locations  []yLocation `yaml:"locations"`
}

type yLocation struct {
	Match          yaml.Node `yaml:"match"`
	Path           yaml.Node `yaml:"path"`
	ProxyPass      yaml.Node `yaml:"proxy_pass"`
	HTTPS          yaml.Node `yaml:"https"`
	ProxySetHeader yaml.Node `yaml:"proxy_set_header"`
	ProxyRedirect  yaml.Node `yaml:"proxy_redirect"`
}

type yStreamServer struct {
	Listen              yaml.Node `yaml:"listen"`
	ProxyPass           yaml.Node `yaml:"proxy_pass"`
	ProxyConnectTimeout yaml.Node `yaml:"proxy_connect_timeout"`
	ProxyTimeout        yaml.Node `yaml:"proxy_timeout"`
	ProxyResponses      yaml.Node `yaml:"proxy_responses"`
}
