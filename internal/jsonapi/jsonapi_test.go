package jsonapi

import "testing"

func TestErrorBodyShapes(t *testing.T) {
	cases := map[string][2]string{
		`{"id": "1", "message": "invalid api token"}`:                          {"", "invalid api token"},
		`{"detail": "Model rerank-9 is not supported"}`:                        {"", "Model rerank-9 is not supported"},
		`{"detail": [{"loc": ["body"], "msg": "field required"}]}`:             {"", "field required"},
		`{"error": {"message": "Rate limit", "type": "requests"}}`:             {"requests", "Rate limit"},
		`{"error": {"message": "Rate limit", "code": 42, "type": "requests"}}`: {"42", "Rate limit"},
		`{"error": "quota"}`:           {"", "quota"},
		`<html>502 Bad Gateway</html>`: {"", "<html>502 Bad Gateway</html>"},
		`{"unrelated": true}`:          {"", `{"unrelated": true}`},
	}
	for body, want := range cases {
		if code, msg := ErrorBody([]byte(body)); code != want[0] || msg != want[1] {
			t.Errorf("ErrorBody(%s) = %q, %q; want %q, %q", body, code, msg, want[0], want[1])
		}
	}
}
