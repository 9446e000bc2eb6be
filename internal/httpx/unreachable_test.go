package httpx

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUnreachable: a refused connection or a name that does not resolve
// is Unreachable while the server has never answered; once it has
// answered, a refusal is an ordinary transport error.
func TestUnreachable(t *testing.T) {
	client := Wrap(nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		url string
		dns bool
	}{{closed + "/x", false}, {"http://nonexistent.invalid/x", true}} {
		_, err := client.Get(tc.url)
		var un *Unreachable
		if !errors.As(err, &un) {
			t.Fatalf("GET %s: %v, want an *Unreachable", tc.url, err)
		}
		if un.DNS != tc.dns {
			t.Errorf("GET %s: DNS = %v, want %v", tc.url, un.DNS, tc.dns)
		}
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	_, err = client.Get(srv.URL)
	var un *Unreachable
	if err == nil || errors.As(err, &un) {
		t.Fatalf("GET of a server that answered, then closed: %v, want a plain transport error", err)
	}
}

// TestTransportRedactsErrorBodies: an error answer that quotes the
// request's credentials reaches the client without them; a 2xx answer is
// untouched.
func TestTransportRedactsErrorBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			w.Write([]byte("key-in-2xx " + r.Header.Get("Api-Key")))
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("you sent " + r.Header.Get("Authorization") + " and " + r.Header.Get("Api-Key")))
	}))
	defer srv.Close()
	client := Wrap(nil)
	get := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer s3cr3t-token")
		req.Header.Set("Api-Key", "azure-k3y")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got, want := get("/err"), "you sent Bearer [REDACTED] and [REDACTED]"; got != want {
		t.Errorf("error body %q, want %q", got, want)
	}
	if got, want := get("/ok"), "key-in-2xx azure-k3y"; got != want {
		t.Errorf("2xx body %q, want %q", got, want)
	}
}
