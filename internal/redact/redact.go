// Package redact removes credentials from text the module shows: the
// bodies of providers' error answers, which a proxy may have filled with
// the request's headers, and the messages of errors and log lines built
// from them.
package redact

import (
	"net/http"
	"regexp"
	"strings"
)

// Placeholder stands where a credential was.
const Placeholder = "[REDACTED]"

// minSecret is the shortest secret replaced: shorter values would mangle
// ordinary text and are no real API key.
const minSecret = 4

// tokens matches credentials whatever their value: "Bearer <token>" and
// "Basic <token>" as in an Authorization header, and keys in the shapes
// providers issue (OpenAI's "sk-...", and "sk-proj-...").
var tokens = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*|\bsk-[A-Za-z0-9_\-]{16,}`)

// String returns s with each of secrets (those of at least 4 bytes) and
// every bearer or basic token replaced by Placeholder. It returns s
// itself when there is nothing to replace.
func String(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecret && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return tokens.ReplaceAllStringFunc(s, func(m string) string {
		if scheme, _, ok := strings.Cut(m, " "); ok && !strings.HasPrefix(strings.ToLower(m), "sk-") {
			return scheme + " " + Placeholder
		}
		if strings.HasSuffix(m, Placeholder) {
			return m
		}
		return Placeholder
	})
}

// credentialHeaders are the request headers that carry API keys.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Api-Key", "X-Api-Key", "X-Goog-Api-Key"}

// Secrets returns the credentials a request's headers carry: the values
// of Authorization (without its scheme, then whole), api-key, x-api-key
// and similar headers.
func Secrets(h http.Header) []string {
	var out []string
	for _, name := range credentialHeaders {
		for _, v := range h.Values(name) {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			// The token first, so that "Bearer <token>" reads
			// "Bearer [REDACTED]".
			if _, token, ok := strings.Cut(v, " "); ok {
				out = append(out, strings.TrimSpace(token))
			}
			out = append(out, v)
		}
	}
	return out
}
