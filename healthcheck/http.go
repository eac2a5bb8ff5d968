package healthcheck

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxBody is how much of a response body an HTTP check reads when
// MaxBody is zero.
const DefaultMaxBody = 1 << 20

// HTTP checks an http:// or https:// URL with a GET, like keepalived's
// HTTP_GET and SSL_GET. Redirects are not followed: a 3xx status is judged
// like any other. The timeout covers the whole exchange: connecting, TLS,
// the headers and reading the body, so a server that trickles its body is
// down once the timeout expires.
type HTTP struct {
	// URL is the address to GET, http:// or https://, with an IP or a name.
	URL string
	// Timeout bounds the whole check; zero means DefaultTimeout.
	Timeout time.Duration
	// Status lists the accepted status codes; empty means 200-299.
	Status []StatusRange
	// Body, if set, must match the body read.
	Body *regexp.Regexp
	// Digest, if set, is the hex MD5 (32 digits, as keepalived's digest)
	// or SHA-256 (64 digits) the body must have.
	Digest string
	// Host, if set, is sent as the Host header (a virtual host).
	Host string
	// ServerName is the TLS SNI and the name the certificate is verified
	// against; empty means Host without its port, or else the URL's host.
	ServerName string
	// InsecureSkipVerify accepts any certificate.
	InsecureSkipVerify bool
	// TLSConfig, if set, is the base TLS configuration (e.g. RootCAs).
	TLSConfig *tls.Config
	// MaxBody limits how much of the body is read; zero means DefaultMaxBody.
	MaxBody int64
	// Protocol, if set, makes the check write the request keepalived's
	// HTTP_GET writes (its http_protocol) instead of Go's HTTP client's:
	// "1.0" (GET PATH HTTP/1.0), "1.0C" (the same with Connection:
	// close) or "1.1" (HTTP/1.1 with Connection: close), with only the
	// User-Agent and Host headers. Host is the Host field, or else the
	// URL's host and port. The response is read as keepalived reads it:
	// the body is the bytes after the header, up to Content-Length or
	// the end of the connection, a chunked one with its chunk sizes.
	Protocol string
	// UserAgent is the User-Agent header; empty means "lvskit-healthcheck".
	UserAgent string
	// NoSNI sends no server name in the TLS handshake (keepalived's
	// SSL_GET without enable_sni) unless ServerName is set. The
	// certificate then cannot be verified against a name: set
	// InsecureSkipVerify.
	NoSNI bool
	// BodyNoMatch inverts Body: the body must not match
	// (keepalived's regex_no_match).
	BodyNoMatch bool
	// BodyFrom and BodyTo bound where in the body a match of Body may
	// start: at BodyFrom or later (keepalived's regex_min_offset) and,
	// if BodyTo is not zero, before BodyTo (regex_max_offset plus one).
	// Offsets count bytes.
	BodyFrom, BodyTo int
	// BodyBytes matches Body against the body's bytes, each read as one
	// character (ISO 8859-1), as PCRE2 matches without its utf option;
	// Body must then have been compiled from a pattern in the same
	// encoding (see Latin1). Without it the body is read as UTF-8.
	BodyBytes bool
	Bind
}

// Protocols are the values HTTP.Protocol takes, besides "".
var Protocols = []string{"1.0", "1.0C", "1.1"}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return fmt.Sprintf("%d-%d", r.Min, r.Max)
}

var defaultStatus = []StatusRange{{200, 299}}

// ParseStatusRanges parses a comma-separated list of codes and ranges, such
// as "200-299,301".
func ParseStatusRanges(s string) ([]StatusRange, error) {
	var out []StatusRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("healthcheck: status range %q: want CODE or MIN-MAX within 100-599", part)
		}
		out = append(out, StatusRange{a, b})
	}
	return out, nil
}

func statusAccepted(code int, ranges []StatusRange) bool {
	if len(ranges) == 0 {
		ranges = defaultStatus
	}
	for _, r := range ranges {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

// Validate reports the first invalid field of h.
func (h *HTTP) Validate() error {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("healthcheck: http URL %q: want an http:// or https:// URL with a host", h.URL)
	}
	if d := h.Digest; d != "" {
		if _, err := hex.DecodeString(d); err != nil || (len(d) != 32 && len(d) != 64) {
			return fmt.Errorf("healthcheck: http digest %q: want 32 (MD5) or 64 (SHA-256) hex digits", d)
		}
	}
	if h.Protocol != "" && !slices.Contains(Protocols, h.Protocol) {
		return fmt.Errorf("healthcheck: http protocol %q: want 1.0, 1.0C or 1.1", h.Protocol)
	}
	if h.BodyFrom < 0 || h.BodyTo < 0 || (h.BodyTo != 0 && h.BodyTo <= h.BodyFrom) {
		return fmt.Errorf("healthcheck: http body offsets %d-%d: want 0 <= from < to (to 0: none)", h.BodyFrom, h.BodyTo)
	}
	for _, r := range h.Status {
		if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
			return fmt.Errorf("healthcheck: http status range %v: want codes within 100-599", r)
		}
	}
	return nil
}

// tlsConfig is the TLS configuration of a check of host (the URL's host
// without its port).
func (h *HTTP) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if h.TLSConfig != nil {
		cfg = h.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	switch {
	case h.ServerName != "":
		cfg.ServerName = h.ServerName
	case h.NoSNI:
		cfg.ServerName = ""
	case h.Host != "":
		name := h.Host
		if host, _, ok := strings.Cut(name, ":"); ok && !strings.Contains(host, "[") {
			name = host
		}
		cfg.ServerName = name
	case cfg.ServerName == "":
		// As Go's client: an IP address is not sent (RFC 6066).
		cfg.ServerName = host
	}
	if h.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// dialTLS connects to addr and runs the TLS handshake.
func (h *HTTP) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := h.Bind.dialer("tcp", false).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(conn, h.tlsConfig(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

func (h *HTTP) client() *http.Client {
	tr := &http.Transport{
		DialContext:       h.Bind.dialer("tcp", false).DialContext,
		DialTLSContext:    h.dialTLS,
		DisableKeepAlives: true,
		// The check is on the real server itself: never a proxy.
		Proxy: nil,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// request writes the request keepalived writes for h.Protocol on a
// connection of its own and reads the response's header; the caller
// closes the body, which closes the connection.
func (h *HTTP) request(ctx context.Context, req *http.Request) (*http.Response, error) {
	u := req.URL
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	var conn net.Conn
	var err error
	if u.Scheme == "https" {
		conn, err = h.dialTLS(ctx, "tcp", addr)
	} else {
		conn, err = h.Bind.dialer("tcp", false).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	minor, closeHdr := 0, ""
	switch h.Protocol {
	case "1.0C":
		closeHdr = "Connection: close\r\n"
	case "1.1":
		minor, closeHdr = 1, "Connection: close\r\n"
	}
	host := req.Host
	if host == "" {
		host = u.Host
	}
	msg := fmt.Sprintf("GET %s HTTP/1.%d\r\nUser-Agent: %s\r\n%sHost: %s\r\n\r\n", u.RequestURI(), minor, req.Header.Get("User-Agent"), closeHdr, host)
	if _, err := io.WriteString(conn, msg); err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	resp, err := readRawResponse(bufio.NewReader(conn))
	if err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	resp.Body = &connBody{ReadCloser: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// readRawResponse reads a response as keepalived's HTTP_GET does: the
// status code of the status line, and as the body the bytes after the
// header, up to its Content-Length if it has one, else to the end of the
// connection, with no transfer coding undone (a chunked body is judged
// with its chunk sizes, as keepalived judges it).
func readRawResponse(br *bufio.Reader) (*http.Response, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	codeText, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	code, err := strconv.Atoi(codeText)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	var body io.Reader = br
	if cl := hdr.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64); err == nil && n >= 0 {
			body = io.LimitReader(br, n)
		}
	}
	return &http.Response{StatusCode: code, Proto: proto, Header: http.Header(hdr), Body: io.NopCloser(body)}, nil
}

// connBody closes its connection with the body.
type connBody struct {
	io.ReadCloser
	conn net.Conn
	stop func() bool
}

func (b *connBody) Close() error {
	b.stop()
	b.ReadCloser.Close()
	return b.conn.Close()
}

// Check implements Checker.
func (h *HTTP) Check(ctx context.Context) Result {
	if err := h.Validate(); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	if h.Host != "" {
		req.Host = h.Host
	}
	ua := h.UserAgent
	if ua == "" {
		ua = "lvskit-healthcheck"
	}
	req.Header.Set("User-Agent", ua)
	req.Close = true
	var resp *http.Response
	if h.Protocol != "" {
		resp, err = h.request(ctx, req)
	} else {
		resp, err = h.client().Do(req)
	}
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return down(ctx, "request", err, timeout)
	}
	defer resp.Body.Close()
	if !statusAccepted(resp.StatusCode, h.Status) {
		return Result{Reason: fmt.Sprintf("status %d", resp.StatusCode)}
	}
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return down(ctx, "read body", err, timeout)
	}
	if h.Body != nil {
		if matched := h.bodyMatches(body); matched == h.BodyNoMatch {
			verb := "does not match"
			if matched {
				verb = "matches"
			}
			return Result{Reason: fmt.Sprintf("status %d, body %s %q", resp.StatusCode, verb, h.Body)}
		}
	}
	if h.Digest != "" {
		var sum []byte
		if len(h.Digest) == 32 {
			s := md5.Sum(body)
			sum = s[:]
		} else {
			s := sha256.Sum256(body)
			sum = s[:]
		}
		if got := hex.EncodeToString(sum); !strings.EqualFold(got, h.Digest) {
			return Result{Reason: fmt.Sprintf("status %d, body digest %s, want %s", resp.StatusCode, got, h.Digest)}
		}
	}
	return up(fmt.Sprintf("status %d", resp.StatusCode))
}

// bodyMatches reports whether Body matches body, starting at BodyFrom or
// later and, with BodyTo, before BodyTo.
func (h *HTTP) bodyMatches(body []byte) bool {
	if h.BodyFrom > len(body) {
		return false
	}
	subject := body[h.BodyFrom:]
	if h.BodyBytes {
		subject = Latin1(subject)
	}
	loc := h.Body.FindIndex(subject)
	if loc == nil {
		return false
	}
	if h.BodyTo == 0 {
		return true
	}
	start := loc[0]
	if h.BodyBytes {
		start = utf8.RuneCount(subject[:start])
	}
	return h.BodyFrom+start < h.BodyTo
}

// Latin1 returns b with each byte as one character encoded in UTF-8
// (ISO 8859-1 to UTF-8): a pattern and a body so read match byte by byte,
// as PCRE2 matches without its utf option.
func Latin1(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}
