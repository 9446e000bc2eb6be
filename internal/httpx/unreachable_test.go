package httpx

import (
	"errors"
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
