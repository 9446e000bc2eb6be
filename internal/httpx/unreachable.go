package httpx

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"syscall"
)

// Unreachable is the error of a request to a server that has never
// answered this process (no HTTP answer of any status through a
// Transport) and cannot be reached: its host name does not resolve, or
// it refuses the connection. Nothing is listening where the client was
// told to go, so making the request again cannot help: the client is
// misconfigured. Once a server has answered, the same failures are
// transient (a restart, a deployment) and not reported as Unreachable.
type Unreachable struct {
	// Server is the scheme and host the request went to,
	// "http://127.0.0.1:8080".
	Server string
	// Host is the host name, without the port.
	Host string
	// DNS is set when the host name did not resolve; otherwise the
	// connection was refused.
	DNS bool
	// Err is the transport's error.
	Err error
}

func (e *Unreachable) Error() string { return e.Err.Error() }
func (e *Unreachable) Unwrap() error { return e.Err }

// answered holds the servers (scheme://host) that have answered a
// request through a Transport in this process.
var answered sync.Map

// serverOf returns the scheme://host of u.
func serverOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

// markAnswered records that the server of u answered.
func markAnswered(u *url.URL) {
	s := serverOf(u)
	if _, ok := answered.Load(s); !ok {
		answered.Store(s, struct{}{})
	}
}

// unreachable returns err as an *Unreachable when it says the server of
// u cannot be reached (a host name that does not resolve, a refused
// connection) and that server has never answered; otherwise err.
func unreachable(u *url.URL, err error) error {
	s := serverOf(u)
	if _, ok := answered.Load(s); ok {
		return err
	}
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && (de.IsNotFound || !(de.IsTimeout || de.IsTemporary)):
		return &Unreachable{Server: s, Host: u.Hostname(), DNS: true, Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Unreachable{Server: s, Host: u.Hostname(), Err: err}
	}
	return err
}
