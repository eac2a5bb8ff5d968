package healthcheck

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
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
	Bind
}

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
	for _, r := range h.Status {
		if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
			return fmt.Errorf("healthcheck: http status range %v: want codes within 100-599", r)
		}
	}
	return nil
}

func (h *HTTP) client() *http.Client {
	var cfg *tls.Config
	if h.TLSConfig != nil {
		cfg = h.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if h.ServerName != "" {
		cfg.ServerName = h.ServerName
	} else if h.Host != "" {
		name := h.Host
		if host, _, ok := strings.Cut(name, ":"); ok && !strings.Contains(host, "[") {
			name = host
		}
		cfg.ServerName = name
	}
	if h.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	tr := &http.Transport{
		DialContext:       h.Bind.dialer("tcp", false).DialContext,
		TLSClientConfig:   cfg,
		DisableKeepAlives: true,
		// The check is on the real server itself: never a proxy.
		Proxy: nil,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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
	req.Header.Set("User-Agent", "lvskit-healthcheck")
	req.Close = true
	resp, err := h.client().Do(req)
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
	if h.Body != nil && !h.Body.Match(body) {
		return Result{Reason: fmt.Sprintf("status %d, body does not match %q", resp.StatusCode, h.Body)}
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
