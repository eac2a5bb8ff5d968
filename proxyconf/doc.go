// Package proxyconf is the nginx layer of an lvskit balancer: a typed model
// of the proxy configuration, its validation, its rendering to nginx files,
// and running nginx to test, install and reload it.
//
// In the cluster lvskit builds, IPVS on the VRRP MASTER spreads connections
// to the VIP over the nginx of every balancer, and each nginx proxies to the
// real servers: http upstreams (the web servers, with Host, X-Real-IP and
// X-Forwarded-For passed on) and stream upstreams (TCP, or UDP such as DNS),
// listening both on the node's service address and on the VIP.
//
// # Model, validation, rendering
//
// A [Config] holds [Global] settings, [Site]s (http) and [Stream]s
// (stream), each a named group of [Upstream]s and servers. [NodeConfig]
// builds the configuration of one node of the article's cluster.
// [Config.Validate] reports every problem as a [*FieldError] naming the field
// and the value (empty upstreams, bad addresses or ports, duplicate names or
// listeners, references to missing upstreams, options in the wrong context).
//
// [Config.Render] produces the article's layout: nginx.conf, which includes
// sites-enabled/*.conf inside http{} and stream-enabled/*.conf inside
// stream{}, and one file per site and stream. [Config.RenderSingle] produces
// one self-contained nginx.conf. Both are pure and deterministic: the same
// Config always renders to the same bytes. Arguments are quoted and escaped
// where nginx needs it. Include paths are relative, so nginx resolves them
// against the directory of nginx.conf, wherever it is written.
//
// # Installing and reloading
//
// [WriteDir] writes rendered files into a directory atomically (each file
// is replaced whole by a rename, unchanged files are left alone, stale
// site and stream files are removed). [Nginx] runs the nginx program:
// [Nginx.Test] is `nginx -t` and returns nginx's own message in a
// [*CommandError]; [Nginx.Install] tests new files in a staging directory
// and writes them only if nginx accepts them; [Nginx.Reload] tests the
// configuration in place before `nginx -s reload`; [Nginx.Apply] does
// both. A configuration that fails `nginx -t` therefore never replaces the
// one in use.
//
// # Privileges and network namespaces
//
// Rendering and validation need nothing. Running nginx needs what nginx
// needs: `nginx -t` opens the log files, creates the temporary directories
// and binds the listening sockets, so it needs permission for low ports
// and, for addresses that are not local (the VIP on a BACKUP node),
// net.ipv4.ip_nonlocal_bind=1, as in the article. Nginx.NetNS runs nginx
// inside a named network namespace (`ip netns exec`, root and Linux only).
// With Nginx.Prefix, Global.PIDFile, Global.ErrorLog, Global.AccessLog and
// Global.TempDir pointing into one directory, nginx touches nothing else on
// the machine.
//
// Debian's nginx loads the stream module dynamically: a configuration with
// Streams needs [DebianStreamModule] in Global.Modules there;
// [Nginx.StreamModule] reads `nginx -V` and tells what the installed nginx
// needs.
package proxyconf
