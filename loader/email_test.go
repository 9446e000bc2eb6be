package loader_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/loader"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestEmailAlternative(t *testing.T) {
	msg := crlf(`From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>
To: Bob <bob@example.org>, carol@example.org
Cc: "Dave D." <dave@example.org>
Subject: =?UTF-8?B?UsOpdW5pb24gZGUgbHVuZGk=?=
Date: Mon, 02 Mar 2026 09:30:00 +0100
Message-ID: <abc123@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/html; charset=utf-8

<p>The <b>HTML</b> version.</p>
--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 at ten, the agenda is attached. This line is long and soft-bro=
ken.
--alt--
--outer
Content-Type: application/pdf; name="agenda.pdf"
Content-Disposition: attachment; filename="agenda.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: base64

k1NlZSB5b3UgdGhlcmWU
--outer--
`)
	d := load1(t, "mail.eml", msg)
	if d.Title != "Réunion de lundi" {
		t.Errorf("title %q", d.Title)
	}
	want := "Café at ten, the agenda is attached. This line is long and soft-broken.\n\n\u201cSee you there\u201d"
	if d.Content != want {
		t.Errorf("content %q, want %q", d.Content, want)
	}
	checkMeta(t, d.Metadata, map[string]any{
		"from":              "André <andre@example.org>",
		loader.MetaAuthor:   "André <andre@example.org>",
		"to":                []string{"Bob <bob@example.org>", "carol@example.org"},
		"cc":                []string{"Dave D. <dave@example.org>"},
		loader.MetaCreated:  time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC),
		"message_id":        "abc123@example.org",
		"attachments":       []string{"agenda.pdf"},
		loader.MetaMIMEType: "message/rfc822",
	})
}

func TestEmailHTMLOnly(t *testing.T) {
	d := load1(t, "a.eml", crlf(`Subject: News
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: 8bit

<html><head><style>p{}</style></head><body><h2>Caf`+"\xe9"+`</h2><p>Open <i>today</i>.</p></body></html>
`))
	if !strings.Contains(d.Content, "## Café") || !strings.Contains(d.Content, "Open *today*.") || strings.Contains(d.Content, "p{}") {
		t.Errorf("content %q", d.Content)
	}
}

func TestEmailPlainDefault(t *testing.T) {
	// No MIME headers at all: US-ASCII text, as RFC 2045 says; 8-bit bytes
	// are decoded all the same.
	d := load1(t, "a.eml", "Subject: hi\n\nplain body caf\xe9\n")
	if d.Content != "plain body café\n" || d.Title != "hi" {
		t.Errorf("got %q %q", d.Title, d.Content)
	}
}

func TestEmailMalformed(t *testing.T) {
	for _, c := range []struct{ name, msg string }{
		{"no header", "just text without a blank line"},
		{"multipart without boundary", "Content-Type: multipart/mixed\n\nbody\n"},
		{"unterminated multipart", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loader.Load(t.Context(), &loader.File{Name: "a.eml", Data: []byte(c.msg)})
			if !errorsIs(err, loader.ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
	// A message made only of an attachment has no text.
	_, err := loader.Load(t.Context(), &loader.File{Name: "a.eml", Data: []byte("Content-Type: image/png\n\nxxxx\n")})
	if !errorsIs(err, loader.ErrNoText) {
		t.Errorf("attachment only: %v, want ErrNoText", err)
	}
}

func TestEmailPartLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\n\n")
	for range 20 {
		b.WriteString("--b\nContent-Type: text/plain\n\npart\n")
	}
	b.WriteString("--b--\n")
	_, err := loader.Load(t.Context(), &loader.File{Name: "a.eml", Data: []byte(b.String()), Limits: loader.Limits{MaxEntries: 10}})
	if !errorsIs(err, loader.ErrTooLarge) {
		t.Errorf("21 parts, limit 10: %v, want ErrTooLarge", err)
	}
}
