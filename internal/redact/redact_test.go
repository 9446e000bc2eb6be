package redact

import (
	"net/http"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	const key = "my-proxy-key-123"
	for _, tc := range []struct{ in, want string }{
		{"header was Authorization: Bearer " + key, "header was Authorization: Bearer " + Placeholder},
		{"api-key=" + key + "; again " + key, "api-key=" + Placeholder + "; again " + Placeholder},
		{"other bearer abc.def-ghi_jkl", "other bearer " + Placeholder},
		{"Basic dXNlcjpwYXNz==", "Basic " + Placeholder},
		{"key sk-proj-abcdefghijklmnopqrstuvwx is invalid", "key " + Placeholder + " is invalid"},
		{"nothing secret here: bears and sk-short", "nothing secret here: bears and sk-short"},
	} {
		if got := String(tc.in, key, "ab"); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := String("ab cd", "ab"); got != "ab cd" {
		t.Errorf("a 2-byte secret was replaced: %q", got)
	}
}

func TestSecrets(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer tok-1234")
	h.Set("Api-Key", "azure-5678")
	h.Set("Content-Type", "application/json")
	got := strings.Join(Secrets(h), ",")
	if want := "tok-1234,Bearer tok-1234,azure-5678"; got != want {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
}
