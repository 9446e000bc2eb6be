package pgvector

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

func randomTime(rng *rand.Rand) time.Time {
	var sec int64
	switch rng.IntN(4) {
	case 0:
		sec = rng.Int64N(4e9) - 2e9 // around 1970
	case 1:
		sec = rng.Int64N(2) - 1 // -1, 0: the sign boundary
	case 2:
		sec = rng.Int64N(1e12) - 5e11 // far past and future
	default:
		sec = 1.7e9 + rng.Int64N(1000)
	}
	nsec := rng.Int64N(1e9)
	if rng.IntN(4) == 0 {
		nsec = 0
	}
	return time.Unix(sec, nsec)
}

// The stored form of a time is an exact decimal: it round-trips to the
// same instant in UTC, and decimals order like the instants they encode
// (so Postgres numeric comparison is time comparison).
func TestTimeNumeric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q is not a decimal", s)
		}
		return r
	}
	for range 5000 {
		a, b := randomTime(rng), randomTime(rng)
		if rng.IntN(8) == 0 {
			b = a.Add(time.Duration(rng.IntN(3) - 1)) // nanosecond neighbours
		}
		na, nb := timeNumeric(a), timeNumeric(b)
		back, err := parseTimeNumeric(na)
		if err != nil || !back.Equal(a) || back.Location() != time.UTC {
			t.Fatalf("%v -> %q -> %v, %v", a, na, back, err)
		}
		if got, want := rat(na).Cmp(rat(nb)), a.Compare(b); got != want {
			t.Fatalf("%v vs %v: decimals %q vs %q compare %d, times %d", a, b, na, nb, got, want)
		}
	}
	// Forms Postgres may write back: fewer decimals, none, negative.
	for s, want := range map[string]time.Time{
		"1.5":          time.Unix(1, 5e8),
		"-4.5":         time.Unix(-5, 5e8),
		"-0.000000001": time.Unix(-1, 999999999),
		"12":           time.Unix(12, 0),
		"-12":          time.Unix(-12, 0),
	} {
		got, err := parseTimeNumeric(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTimeNumeric(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "x", "1.x", "--1"} {
		if _, err := parseTimeNumeric(s); err == nil {
			t.Errorf("parseTimeNumeric(%q) succeeded", s)
		}
	}
}

// Every supported metadata type survives encode and decode with its type.
func TestMetadataRoundTrip(t *testing.T) {
	in := store.NormalizeMetadata(map[string]any{
		"s": "x", "num": 3, "f": -1e-300, "big": math.MaxFloat64, "negzero": math.Copysign(0, -1),
		"b": true, "tm": time.Date(1900, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -3600)),
		"list": []string{"a", "", "b"}, "nil list": []string(nil), "html": "<&>",
		"numstr": "42", "objstr": `{"unix": 1}`,
	})
	text, err := encodeMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeMetadata(text)
	if err != nil {
		t.Fatal(err)
	}
	want := store.NormalizeMetadata(in)
	want["nil list"] = []string{} // JSON keeps no difference between nil and empty
	if !reflect.DeepEqual(out, want) {
		t.Errorf("round trip via %s:\n got %#v\nwant %#v", text, out, want)
	}
	if md, err := decodeMetadata("{}"); err != nil || md != nil {
		t.Errorf("decode {} = %v, %v; want nil", md, err)
	}
	for _, bad := range []string{`{"k": null}`, `{"k": [1]}`, `{"k": {"other": 1}}`, `{"k": {"unix": "x"}}`, `[1]`} {
		if _, err := decodeMetadata(bad); err == nil {
			t.Errorf("decode %s succeeded", bad)
		}
	}
}

// Strings Postgres cannot hold are rejected with store.ErrInvalidRecord.
func TestCheckStorableMetadata(t *testing.T) {
	for _, md := range []map[string]any{
		{"k\x00": "v"}, {"k": "v\x00"}, {"k": "\xff"}, {"\xfe": 1.0}, {"k": []string{"ok", "\x00"}},
	} {
		if err := checkStorableMetadata(md); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("%q: err = %v, want ErrInvalidRecord", md, err)
		}
	}
	if err := checkStorableMetadata(map[string]any{"ü": "世界", "n": 1.0, "l": []string{"a"}}); err != nil {
		t.Errorf("valid metadata rejected: %v", err)
	}
}
