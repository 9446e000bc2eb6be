package rag

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// Defaults of HandlerOptions.
const (
	// DefaultMaxBodyBytes bounds a request body: 32 MiB.
	DefaultMaxBodyBytes = 32 << 20
	// DefaultMaxDocuments bounds the documents of one ingestion request.
	DefaultMaxDocuments = 1000
	// DefaultMaxTopK bounds a search's top_k (and its depth, at 10 times
	// as much).
	DefaultMaxTopK = 100
)

// HandlerOptions configure NewHandler. A nil *HandlerOptions, and every
// zero field, take the defaults; a negative limit means none.
type HandlerOptions struct {
	// Tenant returns the tenant of a request, from what the caller's
	// authentication middleware put in its context or headers. It is
	// called once per request, before the body is read. An error answers
	// 403 (ProblemForbidden) when it matches ErrForbidden and 401
	// (ProblemUnauthenticated) otherwise; its text is logged, not sent.
	// Nil means every request is the default tenant "".
	Tenant func(*http.Request) (string, error)
	// Challenge, if set, is sent as the WWW-Authenticate header of 401
	// answers (RFC 9110 wants one): `Bearer realm="rag"`, say.
	Challenge string
	// MaxBodyBytes bounds a request body. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxDocuments bounds the documents of one POST /documents, counted
	// after uploaded files are loaded. Default DefaultMaxDocuments.
	MaxDocuments int
	// MaxTopK bounds top_k of a search (and depth, at 10 × MaxTopK).
	// Default DefaultMaxTopK.
	MaxTopK int
	// Loaders reads uploaded files (multipart/form-data). Default:
	// loader.Default, with the formats of the loader packages imported.
	Loaders *loader.Registry
	// LoadLimits bound the work of loading one uploaded file; zero
	// fields take the loader package's defaults.
	LoadLimits loader.Limits
	// Logger receives the causes of 5xx answers and of rejected
	// tenants. Default: the pipeline's logger.
	Logger *slog.Logger
}

// tenantAPI is what the handler does for one tenant. *Pipeline is the
// default tenant's. Its methods keep the contracts of Pipeline's.
type tenantAPI interface {
	Ingest(ctx context.Context, docs ...Document) (*IngestReport, error)
	Search(ctx context.Context, query string, opts *SearchOptions) ([]Hit, error)
	AnswerStream(ctx context.Context, question string, opts *AnswerOptions) iter.Seq2[AnswerDelta, error]
	Delete(ctx context.Context, docIDs ...string) error
	Status(ctx context.Context, ids ...string) ([]DocumentStatus, error)
}

var _ tenantAPI = (*Pipeline)(nil)

var _ tenantAPI = (*Tenant)(nil)

// tenantOf returns what the handler uses for tenant on p: p itself for
// the default tenant "", else p.Tenant(tenant) (whose errors
// tenantProblem maps: a store without tenants, an invalid name, a closed
// store).
func tenantOf(p *Pipeline, tenant string) (tenantAPI, error) {
	if tenant == "" {
		return p, nil
	}
	t, err := p.Tenant(tenant)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// route is one route of the handler; routes is the table NewHandler
// registers and the OpenAPI document is checked against.
type route struct {
	method, path string // path as a net/http pattern
	serve        func(*handler, http.ResponseWriter, *http.Request)
}

var routes = []route{
	{"POST", "/documents", (*handler).ingest},
	{"GET", "/documents/{id...}", (*handler).status},
	{"DELETE", "/documents/{id...}", (*handler).delete},
	{"POST", "/search", (*handler).search},
	{"POST", "/answer", (*handler).answer},
	{"GET", "/openapi.json", (*handler).openapi},
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of the handler NewHandler
// returns (which serves it at GET /openapi.json), as JSON. Its paths are
// relative to where the handler is mounted; set "servers" in a copy to
// publish it elsewhere. The caller owns the slice.
func OpenAPI() []byte { return bytes.Clone(openAPIDocument) }

// handler is the http.Handler NewHandler returns.
type handler struct {
	p      *Pipeline
	o      HandlerOptions
	log    *slog.Logger
	mux    *http.ServeMux
	loader *loader.Registry
}

// NewHandler returns an http.Handler that serves p over HTTP, as
// openapi.json describes (see OpenAPI):
//
//	POST   /documents       ingest JSON documents, or files uploaded as multipart/form-data
//	GET    /documents/{id}  a document's status (404 when not stored)
//	DELETE /documents/{id}  delete a document (204, stored or not)
//	POST   /search          search
//	POST   /answer          answer a question: JSON, or Server-Sent Events
//	                        when the request accepts text/event-stream
//	GET    /openapi.json    the OpenAPI document
//
// Paths are relative: mount the handler under any prefix with
// http.StripPrefix, in any mux. Document IDs may hold slashes (escaped or
// not). Every error is an RFC 9457 problem with a stable ProblemCode.
//
// Each request is checked in full before anything is written: its
// tenant, its size (MaxBodyBytes, MaxDocuments), its media type, its
// JSON, every document's validity and, for uploads, the loading of every
// file. A request that fails any check writes nothing. The request's
// context is the work's: a client that goes away cancels its embedding
// and model calls (an ingestion then keeps the whole documents it
// already wrote, and reports nothing).
//
// The handler may serve any number of requests at once. The pipeline's
// rate budget (IngestOptions.RequestsPerMinute and TokensPerMinute) is
// shared by all of them; the number of requests at once is not bounded
// here: put a limiter in front of the handler for that.
func NewHandler(p *Pipeline, opts *HandlerOptions) http.Handler {
	h := &handler{p: p, mux: http.NewServeMux()}
	if opts != nil {
		h.o = *opts
	}
	if h.o.MaxBodyBytes == 0 {
		h.o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if h.o.MaxDocuments == 0 {
		h.o.MaxDocuments = DefaultMaxDocuments
	}
	if h.o.MaxTopK == 0 {
		h.o.MaxTopK = DefaultMaxTopK
	}
	h.loader = h.o.Loaders
	if h.loader == nil {
		h.loader = loader.Default
	}
	h.log = h.o.Logger
	if h.log == nil {
		h.log = p.logger
	}
	for _, rt := range routes {
		h.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			rt.serve(h, w, r)
		})
	}
	h.mux.HandleFunc("/", h.unrouted)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// unrouted answers the requests no route took: 405 with Allow when the
// path has routes with other methods, 404 otherwise.
func (h *handler) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.fail(w, r, newProblem(ProblemMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", ")))
		return
	}
	h.fail(w, r, newProblem(ProblemNotFound, "no route for "+r.URL.Path))
}

// fail writes pr, logging the cause of a 5xx.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, pr *problem) {
	h.logFailure(r, pr)
	if pr.Status == http.StatusUnauthorized && h.o.Challenge != "" {
		w.Header().Set("WWW-Authenticate", h.o.Challenge)
	}
	writeProblem(w, pr)
}

// logFailure logs the cause of a 5xx problem.
func (h *handler) logFailure(r *http.Request, pr *problem) {
	if pr.Status >= 500 {
		h.log.ErrorContext(r.Context(), "rag: handler: request failed", "method", r.Method, "path", r.URL.Path,
			"code", string(pr.Code), "err", pr.cause)
	}
}

// failErr writes the problem of err.
func (h *handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	h.fail(w, r, problemOf(err))
}

// tenant resolves the request's tenant and what serves it; on failure it
// has answered.
func (h *handler) tenant(w http.ResponseWriter, r *http.Request) (tenantAPI, bool) {
	tenant := ""
	if h.o.Tenant != nil {
		t, err := h.o.Tenant(r)
		if err != nil {
			code := ProblemUnauthenticated
			if errors.Is(err, ErrForbidden) {
				code = ProblemForbidden
			}
			h.log.InfoContext(r.Context(), "rag: handler: tenant rejected", "method", r.Method, "path", r.URL.Path, "err", err)
			h.fail(w, r, newProblem(code, problems[code].title))
			return nil, false
		}
		tenant = t
	}
	s, err := tenantOf(h.p, tenant)
	if err != nil {
		pr := tenantProblem(err)
		if pr.Status < 500 {
			h.log.InfoContext(r.Context(), "rag: handler: tenant refused", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		h.fail(w, r, pr)
		return nil, false
	}
	return s, true
}

// tenantProblem is the problem of a tenant that has no handle: 501 when
// the pipeline cannot serve tenants, the store's problem when it is
// closed, and otherwise 403 (an invalid tenant ID: the Tenant function's
// to fix, the cause is logged).
func tenantProblem(err error) *problem {
	var pr *problem
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		pr = newProblem(ProblemTenantsUnsupported, genericDetail(ProblemTenantsUnsupported))
	case codeOf(err) == ProblemUnavailable:
		return problemOf(err)
	default:
		pr = newProblem(ProblemForbidden, "this tenant is not valid")
	}
	pr.cause = err
	return pr
}

// writeJSON writes v as a JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // a write error means the client is gone
}

// mediaType returns the request's media type, lower case, without
// parameters, and its parameters.
func mediaType(r *http.Request) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	return mt, params
}

// isJSON reports whether mt is application/json or a +json type.
func isJSON(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

// limitedBody returns the request's body, which fails with an
// *http.MaxBytesError past MaxBodyBytes; a Content-Length over it is
// refused at once, and then it has answered.
func (h *handler) limitedBody(w http.ResponseWriter, r *http.Request) (io.Reader, bool) {
	if h.o.MaxBodyBytes > 0 && r.ContentLength > h.o.MaxBodyBytes {
		h.fail(w, r, tooLarge(h.o.MaxBodyBytes))
		return nil, false
	}
	if h.o.MaxBodyBytes > 0 {
		return http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes), true
	}
	return r.Body, true
}

// body returns the request's body, within MaxBodyBytes; on failure it has
// answered.
func (h *handler) body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, ok := h.limitedBody(w, r)
	if !ok {
		return nil, false
	}
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, tooLarge(h.o.MaxBodyBytes))
		} else {
			h.failErr(w, r, fmt.Errorf("rag: handler: reading the body: %w", errors.Join(err, r.Context().Err())))
		}
		return nil, false
	}
	return data, true
}

func tooLarge(limit int64) *problem {
	return newProblem(ProblemBodyTooLarge, "the body exceeds "+strconv.FormatInt(limit, 10)+" bytes")
}

// decodeJSON reads the request's JSON body into v, strictly: the media
// type must be JSON, every field known, nothing after the value. On
// failure it has answered.
func (h *handler) decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _ := mediaType(r); !isJSON(mt) {
		h.fail(w, r, newProblem(ProblemUnsupportedMediaType, "send application/json"))
		return false
	}
	data, ok := h.body(w, r)
	if !ok {
		return false
	}
	if err := unmarshalStrict(data, v); err != nil {
		h.fail(w, r, newProblem(ProblemMalformedBody, err.Error()))
		return false
	}
	return true
}

// unmarshalStrict decodes one JSON value with no unknown fields and
// nothing after it.
func unmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the value")
	}
	return nil
}

// optionsRequest is a JSON request body that converts to the pipeline's
// options, within the handler's bound on TopK.
type optionsRequest[O any] interface {
	options(maxTopK int) (O, error)
}

// tenantRequest resolves the request's tenant, decodes its JSON body into
// req and converts it to options; on failure it has answered.
func tenantRequest[O any](h *handler, w http.ResponseWriter, r *http.Request, req optionsRequest[O]) (tenantAPI, O, bool) {
	var zero O
	s, ok := h.tenant(w, r)
	if !ok || !h.decodeJSON(w, r, req) {
		return nil, zero, false
	}
	opts, err := req.options(h.o.MaxTopK)
	if err != nil {
		h.failErr(w, r, err)
		return nil, zero, false
	}
	return s, opts, true
}

// ingest serves POST /documents.
func (h *handler) ingest(w http.ResponseWriter, r *http.Request) {
	s, ok := h.tenant(w, r)
	if !ok {
		return
	}
	var docs []Document
	switch mt, params := mediaType(r); {
	case isJSON(mt):
		docs, ok = h.jsonDocuments(w, r)
	case mt == "multipart/form-data":
		docs, ok = h.uploadedDocuments(w, r, params["boundary"])
	default:
		h.fail(w, r, newProblem(ProblemUnsupportedMediaType, "send application/json documents, or files as multipart/form-data"))
		return
	}
	if !ok {
		return
	}
	if !h.validate(w, r, docs) {
		return
	}
	rep, err := s.Ingest(r.Context(), docs...)
	if err == nil {
		writeJSON(w, http.StatusOK, reportJSON(rep))
		return
	}
	// The first failed document's cause says what went wrong, unless the
	// request itself was cancelled.
	cause := err
	if r.Context().Err() == nil {
		for _, d := range rep.Documents {
			if d.Status == Failed && d.Err != nil {
				cause = d.Err
				break
			}
		}
	}
	pr := problemOf(cause)
	pr.Report = reportJSON(rep)
	h.fail(w, r, pr)
}

// jsonDocuments decodes the documents of a JSON ingestion.
func (h *handler) jsonDocuments(w http.ResponseWriter, r *http.Request) ([]Document, bool) {
	data, ok := h.body(w, r)
	if !ok {
		return nil, false
	}
	var req ingestRequestJSON
	if err := unmarshalStrict(data, &req); err != nil {
		h.fail(w, r, newProblem(ProblemMalformedBody, err.Error()))
		return nil, false
	}
	one := req.documentJSON
	if req.Documents == nil {
		return []Document{one.document()}, true
	}
	if one.ID != "" || one.Title != "" || one.Source != "" || one.Content != "" || one.Tags != nil || one.Metadata != nil || one.ExpiresAt != nil {
		h.fail(w, r, newProblem(ProblemMalformedBody, `give one document, or a list of them in "documents", not both`))
		return nil, false
	}
	docs := make([]Document, len(req.Documents))
	for i := range req.Documents {
		docs[i] = req.Documents[i].document()
	}
	return docs, true
}

// uploadedDocuments loads the files of a multipart/form-data ingestion:
// every part with a file name is a file; other parts are refused. A
// document a loader returns without an ID gets the file's name, with
// "#n" (n from 1) when the file gave several.
func (h *handler) uploadedDocuments(w http.ResponseWriter, r *http.Request, boundary string) ([]Document, bool) {
	if boundary == "" {
		h.fail(w, r, newProblem(ProblemMalformedBody, "multipart/form-data without a boundary"))
		return nil, false
	}
	body, ok := h.limitedBody(w, r)
	if !ok {
		return nil, false
	}
	mr := multipart.NewReader(body, boundary)
	var docs []Document
	files := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			h.failMultipart(w, r, err)
			return nil, false
		}
		name := fileName(part)
		if name == "" {
			h.fail(w, r, newProblem(ProblemMalformedBody, fmt.Sprintf("form field %q is not a file: send files only", part.FormName())))
			return nil, false
		}
		data, err := io.ReadAll(part)
		if err != nil {
			h.failMultipart(w, r, err)
			return nil, false
		}
		files++
		loaded, err := h.loader.Load(r.Context(), &loader.File{Name: name, Data: data, MIME: part.Header.Get("Content-Type"), Limits: h.o.LoadLimits})
		if err != nil {
			h.failErr(w, r, err)
			return nil, false
		}
		for i := range loaded {
			if loaded[i].ID == "" {
				loaded[i].ID = name
				if len(loaded) > 1 {
					loaded[i].ID = name + "#" + strconv.Itoa(i+1)
				}
			}
		}
		docs = append(docs, loaded...)
		if h.o.MaxDocuments > 0 && len(docs) > h.o.MaxDocuments {
			h.fail(w, r, tooMany(h.o.MaxDocuments))
			return nil, false
		}
	}
	if files == 0 {
		h.fail(w, r, newProblem(ProblemNoDocuments, "the form holds no file"))
		return nil, false
	}
	return docs, true
}

// fileName returns the name a part gives its file, with its directories
// (which multipart.Part.FileName drops, for callers that write files):
// here it names a document, and two files of one name in two directories
// are two documents.
func fileName(part *multipart.Part) string {
	if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return part.FileName()
}

// failMultipart answers a multipart body that could not be read.
func (h *handler) failMultipart(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.fail(w, r, tooLarge(h.o.MaxBodyBytes))
	case r.Context().Err() != nil:
		h.failErr(w, r, r.Context().Err())
	default:
		h.fail(w, r, newProblem(ProblemMalformedBody, "invalid multipart/form-data: "+err.Error()))
	}
}

func tooMany(limit int) *problem {
	return newProblem(ProblemTooManyDocuments, "a request may hold at most "+strconv.Itoa(limit)+" documents")
}

// validate checks every document of an ingestion before any is ingested:
// the count, then each document (on a copy; Ingest validates again).
func (h *handler) validate(w http.ResponseWriter, r *http.Request, docs []Document) bool {
	if len(docs) == 0 {
		h.fail(w, r, newProblem(ProblemNoDocuments, "the request holds no document"))
		return false
	}
	if h.o.MaxDocuments > 0 && len(docs) > h.o.MaxDocuments {
		h.fail(w, r, tooMany(h.o.MaxDocuments))
		return false
	}
	var bad []documentProblem
	for i, d := range docs {
		if err := document.Validate(&d); err != nil { // d is a copy
			bad = append(bad, documentProblem{Index: i, ID: d.ID, Code: ProblemInvalidDocument, Detail: err.Error()})
		}
	}
	if len(bad) > 0 {
		pr := newProblem(ProblemInvalidDocument, strconv.Itoa(len(bad))+" document(s) are invalid; nothing was written")
		pr.Errors = bad
		h.fail(w, r, pr)
		return false
	}
	return true
}

// document resolves the tenant and the document ID of a
// /documents/{id} request; on failure it has answered.
func (h *handler) document(w http.ResponseWriter, r *http.Request) (tenantAPI, string, bool) {
	s, ok := h.tenant(w, r)
	if !ok {
		return nil, "", false
	}
	id := r.PathValue("id")
	if id == "" {
		h.fail(w, r, newProblem(ProblemDocumentNotFound, "no document ID in the path"))
		return nil, "", false
	}
	return s, id, true
}

// status serves GET /documents/{id}.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	s, id, ok := h.document(w, r)
	if !ok {
		return
	}
	st, err := s.Status(r.Context(), id)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if len(st) != 1 || !st[0].Stored {
		h.fail(w, r, newProblem(ProblemDocumentNotFound, "no document "+strconv.Quote(id)))
		return
	}
	writeJSON(w, http.StatusOK, statusJSON{ID: st[0].ID, Stored: true, Hash: st[0].Hash})
}

// delete serves DELETE /documents/{id}.
func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	s, id, ok := h.document(w, r)
	if !ok {
		return
	}
	if err := s.Delete(r.Context(), id); err != nil {
		h.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// search serves POST /search.
func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	var req searchRequestJSON
	s, opts, ok := tenantRequest(h, w, r, &req)
	if !ok {
		return
	}
	hits, err := s.Search(r.Context(), req.Query, opts)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	out := searchResponseJSON{Hits: make([]hitJSON, len(hits))}
	for i := range hits {
		out.Hits[i] = hitOfJSON(&hits[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// answer serves POST /answer: JSON, or a stream of Server-Sent Events
// when the client accepts text/event-stream (handler_sse.go).
func (h *handler) answer(w http.ResponseWriter, r *http.Request) {
	var req answerRequestJSON
	s, opts, ok := tenantRequest(h, w, r, &req)
	if !ok {
		return
	}
	deltas := s.AnswerStream(r.Context(), req.Question, opts)
	if acceptsEventStream(r) {
		h.streamAnswer(w, r, deltas, opts.Conversation)
		return
	}
	for d, err := range deltas {
		if err != nil {
			h.failErr(w, r, err)
			return
		}
		if d.Answer != nil {
			writeJSON(w, http.StatusOK, answerOfJSON(d.Answer, opts.Conversation))
			return
		}
	}
	h.failErr(w, r, errors.New("rag: handler: the answer stream ended without an answer"))
}

// openapi serves GET /openapi.json.
func (h *handler) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.Write(openAPIDocument)
}
