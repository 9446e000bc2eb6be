package loader

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/ragkit-go/rag/document"
)

// Email is the loader of e-mail messages (.eml, RFC 5322 with MIME): one
// document, titled by the Subject, whose content is the message's text: of
// each multipart/alternative the text/plain part (or else the text/html
// one, converted to Markdown), the text parts of a multipart/mixed in
// order. Transfer encodings (quoted-printable, base64) and character sets
// (any the WHATWG Encoding Standard names: UTF-8, ISO-8859-*,
// Windows-125*, …) are decoded, RFC 2047 headers too. Metadata: "from"
// (also MetaAuthor), "to" and "cc" ([]string), MetaCreated from Date,
// "message_id", and "attachments" (the file names of the parts not read,
// []string).
var Email Loader = LoaderFunc(loadEmail)

// maxMIMEDepth is how deep multiparts may nest.
const maxMIMEDepth = 16

var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, input io.Reader) (io.Reader, error) {
	return charset.NewReaderLabel(label, input)
}}

func loadEmail(ctx context.Context, f *File) ([]document.Document, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(f.Data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d := document.Document{Metadata: map[string]any{MetaMIMEType: "message/rfc822"}}
	d.Title = headerText(msg.Header.Get("Subject"))
	if from := headerText(msg.Header.Get("From")); from != "" {
		d.Metadata["from"] = from
		d.Metadata[MetaAuthor] = from
	}
	for _, k := range []string{"To", "Cc"} {
		if list := addressList(msg.Header, k); len(list) > 0 {
			d.Metadata[strings.ToLower(k)] = list
		}
	}
	if t, err := msg.Header.Date(); err == nil {
		d.Metadata[MetaCreated] = t.UTC()
	}
	if id := strings.Trim(headerText(msg.Header.Get("Message-Id")), "<> "); id != "" {
		d.Metadata["message_id"] = id
	}
	w := &mimeWalk{ctx: ctx, maxParts: f.Limits.MaxEntries}
	text, err := w.entity(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	if err != nil {
		return nil, err
	}
	if len(w.attachments) > 0 {
		d.Metadata["attachments"] = w.attachments
	}
	d.Content = text
	return []document.Document{d}, nil
}

// headerText decodes a header's RFC 2047 words; raw 8-bit bytes are
// decoded as decodeText does.
func headerText(v string) string {
	if s, err := wordDecoder.DecodeHeader(v); err == nil {
		v = s
	}
	s, err := decodeText([]byte(v), "")
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

// addressList reads an address header as "Name <addr>" (or "addr")
// strings; a header that does not parse is kept as its decoded text.
func addressList(h mail.Header, key string) []string {
	if h.Get(key) == "" {
		return nil
	}
	list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(h.Get(key))
	if err != nil {
		return []string{headerText(h.Get(key))}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		s := a.Address
		if a.Name != "" {
			s = a.Name + " <" + a.Address + ">"
		}
		s, _ = decodeText([]byte(s), "")
		out = append(out, s)
	}
	return out
}

// mimeWalk gathers the text of a message's MIME tree.
type mimeWalk struct {
	ctx         context.Context
	parts       int
	maxParts    int
	attachments []string
}

// entity returns the text of one MIME entity (a message or a part).
func (w *mimeWalk) entity(h textproto.MIMEHeader, body io.Reader, depth int) (string, error) {
	if err := w.ctx.Err(); err != nil {
		return "", err
	}
	w.parts++
	if w.maxParts > 0 && w.parts > w.maxParts {
		return "", fmt.Errorf("%w: more than %d MIME parts", ErrTooLarge, w.maxParts)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", nil // RFC 2045: the default
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := headerText(dparams["filename"])
	if name == "" {
		name = headerText(params["name"])
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		if depth >= maxMIMEDepth {
			return "", fmt.Errorf("%w: MIME parts nested more than %d deep", ErrMalformed, maxMIMEDepth)
		}
		return w.multipart(mediaType, params["boundary"], body, depth)
	case disp == "attachment", mediaType != "text/plain" && mediaType != "text/html":
		if name == "" {
			name = mediaType
		}
		w.attachments = append(w.attachments, name)
		return "", nil
	}
	raw, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return "", fmt.Errorf("%w: decoding a %s part: %w", ErrMalformed, mediaType, err)
	}
	text, err := decodeText(raw, params["charset"])
	if err != nil {
		return "", err
	}
	if mediaType == "text/html" {
		root, err := html.Parse(strings.NewReader(text))
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		removeElements(root, atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head)
		return htmlToMarkdown(w.ctx, root)
	}
	return strings.ReplaceAll(text, "\r\n", "\n"), nil
}

// multipart returns the text of a multipart entity: the preferred part of
// an alternative, every part of the others, in order.
func (w *mimeWalk) multipart(mediaType, boundary string, body io.Reader, depth int) (string, error) {
	if boundary == "" {
		return "", fmt.Errorf("%w: %s without a boundary", ErrMalformed, mediaType)
	}
	r := multipart.NewReader(body, boundary)
	var texts []string
	var plain, htmlText, other string
	for {
		p, err := r.NextRawPart() // the transfer encoding is decoded here, for every part
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: reading %s: %w", ErrMalformed, mediaType, err)
		}
		partType, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if partType == "" {
			partType = "text/plain"
		}
		text, err := w.entity(p.Header, p, depth+1)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if mediaType != "multipart/alternative" {
			texts = append(texts, strings.TrimSpace(text))
			continue
		}
		switch {
		case partType == "text/plain" && plain == "":
			plain = text
		case partType == "text/html" && htmlText == "":
			htmlText = text
		case other == "":
			other = text
		}
	}
	if mediaType == "multipart/alternative" {
		for _, t := range []string{plain, htmlText, other} {
			if t != "" {
				return t, nil
			}
		}
		return "", nil
	}
	return strings.Join(texts, "\n\n"), nil
}

// transferDecoder undoes a Content-Transfer-Encoding; 7bit, 8bit, binary
// and unknown ones are read as they are.
func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Clean{r: r})
	}
	return r
}

// base64Clean drops the bytes base64 bodies carry beside their alphabet
// (spaces, tabs; base64.NewDecoder skips only line breaks).
type base64Clean struct{ r io.Reader }

func (c *base64Clean) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	k := 0
	for _, b := range p[:n] {
		if b != ' ' && b != '\t' {
			p[k] = b
			k++
		}
	}
	return k, err
}
