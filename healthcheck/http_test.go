package healthcheck

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "Hello from web1 !") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/vhost", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "www.lvskit.test" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "vhost")
	})
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		for i := 0; i < 100; i++ {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	md5sum := md5.Sum([]byte("Hello from web1 !"))
	shasum := sha256.Sum256([]byte("Hello from web1 !"))

	const timeout = 500 * time.Millisecond
	tests := []struct {
		name    string
		http    HTTP
		want    resultWant
		minTook time.Duration
	}{
		{"200 is up", HTTP{URL: srv.URL + "/ok"}, resultWant{true, "status 200"}, 0},
		{"500 is down", HTTP{URL: srv.URL + "/fail"}, resultWant{false, "status 500"}, 0},
		{"redirect is down by default and not followed", HTTP{URL: srv.URL + "/moved"}, resultWant{false, "status 302"}, 0},
		{"redirect accepted is up", HTTP{URL: srv.URL + "/moved", Status: []StatusRange{{200, 299}, {302, 302}}}, resultWant{true, "status 302"}, 0},
		{"only 500 accepted makes 200 down", HTTP{URL: srv.URL + "/ok", Status: []StatusRange{{500, 500}}}, resultWant{false, "status 200"}, 0},
		{"body matching regexp is up", HTTP{URL: srv.URL + "/ok", Body: regexp.MustCompile(`Hello from web\d`)}, resultWant{true, "status 200"}, 0},
		{"body not matching regexp is down", HTTP{URL: srv.URL + "/ok", Body: regexp.MustCompile(`web2`)}, resultWant{false, "body does not match"}, 0},
		{"MD5 digest matching is up", HTTP{URL: srv.URL + "/ok", Digest: hex.EncodeToString(md5sum[:])}, resultWant{true, "status 200"}, 0},
		{"SHA-256 digest matching is up", HTTP{URL: srv.URL + "/ok", Digest: hex.EncodeToString(shasum[:])}, resultWant{true, "status 200"}, 0},
		{"digest not matching is down", HTTP{URL: srv.URL + "/ok", Digest: "00000000000000000000000000000000"}, resultWant{false, "body digest"}, 0},
		{"virtual host is sent as Host", HTTP{URL: srv.URL + "/vhost", Host: "www.lvskit.test"}, resultWant{true, "status 200"}, 0},
		{"without the virtual host it is 404", HTTP{URL: srv.URL + "/vhost"}, resultWant{false, "status 404"}, 0},
		{"body trickled slower than the timeout is down at the timeout", HTTP{URL: srv.URL + "/trickle", Timeout: timeout}, resultWant{false, "read body timed out after 500ms"}, timeout},
		{"closed port is down", HTTP{URL: "http://" + closedPort(t, "tcp").String() + "/"}, resultWant{false, "connection refused"}, 0},
		{"bad URL is an error", HTTP{URL: "ftp://x/"}, resultWant{false, `http URL "ftp://x/"`}, 0},
		{"bad digest is an error", HTTP{URL: srv.URL, Digest: "abc"}, resultWant{false, `digest "abc"`}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			checkResult(t, tt.http.Check(context.Background()), tt.want)
			if el := time.Since(start); el < tt.minTook || el > tt.minTook+2*time.Second {
				t.Errorf("check took %v, want at least %v and not much more", el, tt.minTook)
			}
		})
	}
}

func TestHTTPS(t *testing.T) {
	sni := make(chan string, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure") }))
	srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		sni <- hello.ServerName
		return nil, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	trusted := srv.Client().Transport.(*http.Transport).TLSClientConfig
	// httptest's certificate is valid for example.com and 127.0.0.1.
	tests := []struct {
		name    string
		http    HTTP
		want    resultWant
		wantSNI string
	}{
		{"unknown CA is down", HTTP{URL: srv.URL}, resultWant{false, "certificate"}, ""},
		{"skipping verification is up", HTTP{URL: srv.URL, InsecureSkipVerify: true}, resultWant{true, "status 200"}, ""},
		{"trusted CA is up", HTTP{URL: srv.URL, TLSConfig: trusted}, resultWant{true, "status 200"}, ""},
		{"SNI from the virtual host", HTTP{URL: srv.URL, TLSConfig: trusted, Host: "example.com:443"}, resultWant{true, "status 200"}, "example.com"},
		{"explicit SNI wins", HTTP{URL: srv.URL, TLSConfig: trusted, Host: "www.lvskit.test", ServerName: "example.com"}, resultWant{true, "status 200"}, "example.com"},
		{"SNI not in the certificate is down", HTTP{URL: srv.URL, TLSConfig: trusted, ServerName: "www.lvskit.test"}, resultWant{false, "certificate"}, "www.lvskit.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for len(sni) > 0 {
				<-sni
			}
			checkResult(t, tt.http.Check(context.Background()), tt.want)
			var got string
			select {
			case got = <-sni:
			case <-time.After(5 * time.Second):
				t.Fatal("server saw no TLS handshake")
			}
			if diff := cmp.Diff(tt.wantSNI, got); diff != "" {
				t.Errorf("SNI (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStatusRanges(t *testing.T) {
	got, err := ParseStatusRanges("200-299, 301,404")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]StatusRange{{200, 299}, {301, 301}, {404, 404}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "abc", "300-200", "99", "200-600", "200-"} {
		if _, err := ParseStatusRanges(bad); err == nil {
			t.Errorf("ParseStatusRanges(%q) succeeded", bad)
		}
	}
}

func TestHTTPSourceBinding(t *testing.T) {
	from := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.RemoteAddr, ":")
		from <- host
	}))
	defer srv.Close()
	got := (&HTTP{URL: srv.URL, Bind: Bind{Source: netip.MustParseAddr("127.0.0.9")}}).Check(context.Background())
	checkResult(t, got, resultWant{true, "status 200"})
	if h := <-from; h != "127.0.0.9" {
		t.Errorf("request came from %s, want 127.0.0.9", h)
	}
}
