package rag

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A streamed answer (POST /answer with Accept: text/event-stream) is a
// stream of Server-Sent Events, each one JSON object on one data line:
//
//	event: delta      {"text": "Goroutines are cheap [1]", "cited": [1]}
//	                  a piece of the answer, as the model writes it; cited
//	                  lists the passages first cited in it, by number
//	event: citations  {"citations": [passage, ...]}
//	                  once, after the last delta: the passages the answer cites
//	event: done       the answer's other fields (question, query,
//	                  finish_reason, usage, invalid_citations, conversation)
//	event: error      a problem (as an error response's body), instead of
//	                  what was still to come; nothing follows it
//
// An error found before the first event (an empty question, a failed
// search, a model that refused at once) is an ordinary problem response
// with its status, not a stream. A client that goes away ends the model
// call. The handler clears the connection's write deadline for the
// stream, so a server's WriteTimeout does not cut a long answer.

// acceptsEventStream reports whether the request's Accept header names
// text/event-stream with a non-zero quality.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "text/event-stream" {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// deltaJSON is the data of a delta event.
type deltaJSON struct {
	Text  string `json:"text"`
	Cited []int  `json:"cited,omitempty"`
}

// citationsJSON is the data of the citations event.
type citationsJSON struct {
	Citations []passageJSON `json:"citations"`
}

// sseWriter writes events to a response, flushing each.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// event writes one event; an error means the client is gone.
func (s *sseWriter) event(name string, v any) error {
	data, err := json.Marshal(v) // one line: JSON escapes newlines in strings
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

// streamAnswer serves a streamed answer from deltas. Returning early
// stops the iteration, which ends the model call.
func (h *handler) streamAnswer(w http.ResponseWriter, r *http.Request, deltas iter.Seq2[AnswerDelta, error], conv *Conversation) {
	var sse *sseWriter
	start := func() {
		hd := w.Header()
		hd.Set("Content-Type", "text/event-stream")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		sse = &sseWriter{w: w, rc: http.NewResponseController(w)}
		sse.rc.SetWriteDeadline(time.Time{}) // not every writer can: then the server's timeout stays
		w.WriteHeader(http.StatusOK)
	}
	fail := func(err error) {
		if sse == nil {
			h.failErr(w, r, err)
			return
		}
		pr := problemOf(err)
		h.logFailure(r, pr)
		sse.event("error", pr)
	}
	for d, err := range deltas {
		if err != nil {
			fail(err)
			return
		}
		if d.Answer == nil && d.Text == "" {
			continue
		}
		if sse == nil {
			start()
		}
		if a := d.Answer; a != nil {
			if sse.event("citations", citationsJSON{Citations: passagesJSON(a.Citations)}) != nil {
				return
			}
			done := answerOfJSON(a, conv)
			done.Text, done.Citations = "", nil
			sse.event("done", done)
			return
		}
		ev := deltaJSON{Text: d.Text}
		for _, c := range d.Citations {
			ev.Cited = append(ev.Cited, c.N)
		}
		if sse.event("delta", ev) != nil {
			return // the client is gone: stop the model
		}
	}
	fail(errors.New("rag: handler: the answer stream ended without an answer"))
}
