package rag

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
)

// ProblemCode is the stable code of an error response of the handler
// NewHandler returns. Every error response is an RFC 9457 problem
// (Content-Type application/problem+json):
//
//	{"type": "https://pkg.go.dev/github.com/ragkit-go/rag#ProblemInvalidDocument",
//	 "title": "Invalid document", "status": 422, "code": "invalid_document",
//	 "detail": "document \"a\": document: content is empty"}
//
// Clients branch on code (or on type, which names the constant documenting
// it); title and detail are for people and may change. A code, once
// published, keeps its meaning and its status. Problems may carry more
// members: "errors" lists the rejected documents of an ingestion
// ({"index", "id", "code", "detail"}), "report" is the ingestion report
// when documents failed after validation. A 5xx problem's detail is
// generic: the cause goes to the handler's logger, not to the client.
type ProblemCode string

// Problem codes, with their HTTP status.
const (
	// ProblemMalformedBody (400): the body is not valid JSON, has unknown
	// fields or fields of the wrong type, or is not a valid multipart form.
	ProblemMalformedBody ProblemCode = "malformed_body"
	// ProblemUnauthenticated (401): HandlerOptions.Tenant failed with an
	// error other than ErrForbidden.
	ProblemUnauthenticated ProblemCode = "unauthenticated"
	// ProblemForbidden (403): HandlerOptions.Tenant failed with an error
	// matching ErrForbidden.
	ProblemForbidden ProblemCode = "forbidden"
	// ProblemNotFound (404): no route has this path.
	ProblemNotFound ProblemCode = "not_found"
	// ProblemDocumentNotFound (404): the store holds no document with this
	// ID (GET /documents/{id}).
	ProblemDocumentNotFound ProblemCode = "document_not_found"
	// ProblemMethodNotAllowed (405): the path exists, not with this
	// method; the Allow header lists the methods it has.
	ProblemMethodNotAllowed ProblemCode = "method_not_allowed"
	// ProblemBodyTooLarge (413): the body exceeds HandlerOptions.MaxBodyBytes.
	ProblemBodyTooLarge ProblemCode = "body_too_large"
	// ProblemTooManyDocuments (413): the request holds more documents than
	// HandlerOptions.MaxDocuments (counted after loading uploaded files).
	ProblemTooManyDocuments ProblemCode = "too_many_documents"
	// ProblemFileTooLarge (413): an uploaded file, or what it inflates to,
	// exceeds HandlerOptions.LoadLimits (loader.ErrTooLarge).
	ProblemFileTooLarge ProblemCode = "file_too_large"
	// ProblemUnsupportedMediaType (415): the request's Content-Type is
	// not one the route accepts, or no loader reads an uploaded file's
	// format (loader.ErrUnsupported).
	ProblemUnsupportedMediaType ProblemCode = "unsupported_media_type"
	// ProblemInvalidDocument (422): a document is invalid (empty content,
	// invalid UTF-8 or metadata, a chunk longer than the embedder takes);
	// "errors" lists each one. Nothing was written.
	ProblemInvalidDocument ProblemCode = "invalid_document"
	// ProblemNoDocuments (422): an ingestion holds no document.
	ProblemNoDocuments ProblemCode = "no_documents"
	// ProblemUnreadableFile (422): an uploaded file could not be read:
	// malformed, encrypted, without text, or its parse timed out or
	// panicked (loader.ErrMalformed, ErrEncrypted, ErrNoText, ErrTimeout,
	// ErrPanic). Nothing was written.
	ProblemUnreadableFile ProblemCode = "unreadable_file"
	// ProblemEmptyQuery (422): the query or question is empty (ErrEmptyQuery).
	ProblemEmptyQuery ProblemCode = "empty_query"
	// ProblemInvalidOptions (422): an option is out of its range or names
	// an unknown mode (ErrInvalidOptions).
	ProblemInvalidOptions ProblemCode = "invalid_options"
	// ProblemInvalidFilter (422): the filter is malformed (store.ErrInvalidFilter).
	ProblemInvalidFilter ProblemCode = "invalid_filter"
	// ProblemCanceled (499, as nginx names it): the client went away, or
	// the request's context was cancelled, before the work was done.
	// Nothing was written for the documents not reported stored.
	ProblemCanceled ProblemCode = "canceled"
	// ProblemInternal (500): an unexpected failure; the handler's logger
	// has the cause.
	ProblemInternal ProblemCode = "internal"
	// ProblemNoModel (501): the pipeline has no chat model (ErrNoModel).
	ProblemNoModel ProblemCode = "no_model"
	// ProblemUnsupported (501): the pipeline cannot do this (a lexical
	// search without a lexical index: ErrNoLexical, errors.ErrUnsupported).
	ProblemUnsupported ProblemCode = "unsupported"
	// ProblemTenantsUnsupported (501): HandlerOptions.Tenant named a
	// tenant, and this build of the handler serves only the default
	// tenant "".
	ProblemTenantsUnsupported ProblemCode = "tenants_unsupported"
	// ProblemProviderError (502): the embedding, chat or rerank provider
	// refused the request (a *provider.Error that is not retryable).
	ProblemProviderError ProblemCode = "provider_error"
	// ProblemProviderUnavailable (503): the provider is overloaded or
	// unreachable and the retries ran out; Retry-After says when to try
	// again, when the provider said.
	ProblemProviderUnavailable ProblemCode = "provider_unavailable"
	// ProblemUnavailable (503): the store is closed or unreachable.
	ProblemUnavailable ProblemCode = "unavailable"
	// ProblemTimeout (504): the request's deadline passed before the
	// work was done.
	ProblemTimeout ProblemCode = "timeout"
)

// StatusClientClosedRequest is the status of ProblemCanceled: 499, the
// code nginx gave to a request whose client went away.
const StatusClientClosedRequest = 499

// ErrForbidden, returned (or wrapped) by HandlerOptions.Tenant, answers
// 403 Forbidden (ProblemForbidden); any other error answers 401.
var ErrForbidden = errors.New("rag: forbidden")

// problemInfo is what a code means on the wire.
type problemInfo struct {
	status int
	title  string
	name   string // the constant's name, the anchor of its type URI
}

// problems is every ProblemCode with its status; the OpenAPI document's
// enum of codes is checked against it.
var problems = map[ProblemCode]problemInfo{
	ProblemMalformedBody:        {http.StatusBadRequest, "Malformed request body", "ProblemMalformedBody"},
	ProblemUnauthenticated:      {http.StatusUnauthorized, "Unauthenticated", "ProblemUnauthenticated"},
	ProblemForbidden:            {http.StatusForbidden, "Forbidden", "ProblemForbidden"},
	ProblemNotFound:             {http.StatusNotFound, "Not found", "ProblemNotFound"},
	ProblemDocumentNotFound:     {http.StatusNotFound, "Document not found", "ProblemDocumentNotFound"},
	ProblemMethodNotAllowed:     {http.StatusMethodNotAllowed, "Method not allowed", "ProblemMethodNotAllowed"},
	ProblemBodyTooLarge:         {http.StatusRequestEntityTooLarge, "Request body too large", "ProblemBodyTooLarge"},
	ProblemTooManyDocuments:     {http.StatusRequestEntityTooLarge, "Too many documents", "ProblemTooManyDocuments"},
	ProblemFileTooLarge:         {http.StatusRequestEntityTooLarge, "File too large", "ProblemFileTooLarge"},
	ProblemUnsupportedMediaType: {http.StatusUnsupportedMediaType, "Unsupported media type", "ProblemUnsupportedMediaType"},
	ProblemInvalidDocument:      {http.StatusUnprocessableEntity, "Invalid document", "ProblemInvalidDocument"},
	ProblemNoDocuments:          {http.StatusUnprocessableEntity, "No documents", "ProblemNoDocuments"},
	ProblemUnreadableFile:       {http.StatusUnprocessableEntity, "Unreadable file", "ProblemUnreadableFile"},
	ProblemEmptyQuery:           {http.StatusUnprocessableEntity, "Empty query", "ProblemEmptyQuery"},
	ProblemInvalidOptions:       {http.StatusUnprocessableEntity, "Invalid options", "ProblemInvalidOptions"},
	ProblemInvalidFilter:        {http.StatusUnprocessableEntity, "Invalid filter", "ProblemInvalidFilter"},
	ProblemCanceled:             {StatusClientClosedRequest, "Request canceled", "ProblemCanceled"},
	ProblemInternal:             {http.StatusInternalServerError, "Internal error", "ProblemInternal"},
	ProblemNoModel:              {http.StatusNotImplemented, "No chat model", "ProblemNoModel"},
	ProblemUnsupported:          {http.StatusNotImplemented, "Not supported", "ProblemUnsupported"},
	ProblemTenantsUnsupported:   {http.StatusNotImplemented, "Tenants not supported", "ProblemTenantsUnsupported"},
	ProblemProviderError:        {http.StatusBadGateway, "Provider error", "ProblemProviderError"},
	ProblemProviderUnavailable:  {http.StatusServiceUnavailable, "Provider unavailable", "ProblemProviderUnavailable"},
	ProblemUnavailable:          {http.StatusServiceUnavailable, "Service unavailable", "ProblemUnavailable"},
	ProblemTimeout:              {http.StatusGatewayTimeout, "Timeout", "ProblemTimeout"},
}

// problemTypeBase is the base of every problem's type URI: the code's
// constant in this package's documentation.
const problemTypeBase = "https://pkg.go.dev/github.com/ragkit-go/rag#"

// problem is an RFC 9457 problem details object as the handler writes it.
type problem struct {
	Type   string      `json:"type"`
	Title  string      `json:"title"`
	Status int         `json:"status"`
	Detail string      `json:"detail,omitempty"`
	Code   ProblemCode `json:"code"`
	// Errors lists the documents an ingestion rejected.
	Errors []documentProblem `json:"errors,omitempty"`
	// Report is the ingestion's report when documents failed after
	// validation: what was stored, what failed and why.
	Report *ingestReportJSON `json:"report,omitempty"`

	retryAfter int // seconds, for the Retry-After header; 0: none
	cause      error
}

// documentProblem is one rejected document: its index in the request
// (for an upload, in the order the files' documents were loaded), its ID
// when it has one, and why.
type documentProblem struct {
	Index  int         `json:"index"`
	ID     string      `json:"id,omitempty"`
	Code   ProblemCode `json:"code"`
	Detail string      `json:"detail"`
}

// newProblem returns the problem of code, with detail.
func newProblem(code ProblemCode, detail string) *problem {
	info, ok := problems[code]
	if !ok {
		code, info = ProblemInternal, problems[ProblemInternal]
	}
	return &problem{Type: problemTypeBase + info.name, Title: info.title, Status: info.status, Detail: detail, Code: code}
}

// problemOf maps err to its problem. A 4xx problem's detail is the
// error's text, which describes the client's input; a 5xx problem's is
// generic, and its cause is logged instead.
func problemOf(err error) *problem {
	code := codeOf(err)
	detail := err.Error()
	if problems[code].status >= 500 {
		detail = genericDetail(code)
	}
	pr := newProblem(code, detail)
	pr.cause = err
	var pe *provider.Error
	if code == ProblemProviderUnavailable && errors.As(err, &pe) && pe.RetryAfter > 0 {
		pr.retryAfter = max(1, int((pe.RetryAfter+999_999_999)/1_000_000_000)) // whole seconds, rounded up
	}
	return pr
}

// codeOf is the problem code of err; see the ProblemCode constants.
func codeOf(err error) ProblemCode {
	var (
		mbe *http.MaxBytesError
		pe  *provider.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ProblemCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ProblemTimeout
	case errors.As(err, &mbe):
		return ProblemBodyTooLarge
	case errors.Is(err, ErrEmptyContent), errors.Is(err, ErrInvalidUTF8), errors.Is(err, ErrInvalidDocument),
		errors.Is(err, embed.ErrInputTooLong):
		return ProblemInvalidDocument
	case errors.Is(err, ErrEmptyQuery):
		return ProblemEmptyQuery
	case errors.Is(err, ErrInvalidOptions):
		return ProblemInvalidOptions
	case errors.Is(err, store.ErrInvalidFilter):
		return ProblemInvalidFilter
	case errors.Is(err, loader.ErrUnsupported):
		return ProblemUnsupportedMediaType
	case errors.Is(err, loader.ErrTooLarge):
		return ProblemFileTooLarge
	case errors.Is(err, loader.ErrMalformed), errors.Is(err, loader.ErrEncrypted), errors.Is(err, loader.ErrNoText),
		errors.Is(err, loader.ErrTimeout), errors.Is(err, loader.ErrPanic):
		return ProblemUnreadableFile
	case errors.Is(err, ErrNoModel):
		return ProblemNoModel
	case errors.As(err, &pe):
		if provider.Retryable(err) {
			return ProblemProviderUnavailable
		}
		return ProblemProviderError
	case errors.Is(err, llm.ErrInvalidRequest):
		return ProblemInvalidOptions
	case errors.Is(err, errors.ErrUnsupported):
		return ProblemUnsupported
	case errors.Is(err, store.ErrClosed):
		return ProblemUnavailable
	case provider.Retryable(err):
		return ProblemProviderUnavailable
	}
	return ProblemInternal
}

// genericDetail is the detail of a 5xx problem.
func genericDetail(code ProblemCode) string {
	switch code {
	case ProblemNoModel:
		return "this service has no chat model configured"
	case ProblemUnsupported:
		return "this service cannot do that (a lexical search without a lexical index, say)"
	case ProblemTenantsUnsupported:
		return "this service serves only the default tenant"
	case ProblemProviderError:
		return "the embedding, chat or rerank provider refused the request"
	case ProblemProviderUnavailable:
		return "the embedding, chat or rerank provider is unavailable; try again later"
	case ProblemUnavailable:
		return "the store is unavailable"
	case ProblemTimeout:
		return "the request's deadline passed"
	}
	return "internal error"
}

// writeProblem writes pr as the response.
func writeProblem(w http.ResponseWriter, pr *problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if pr.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(pr.retryAfter))
	}
	w.WriteHeader(pr.Status)
	json.NewEncoder(w).Encode(pr) // a write error means the client is gone: nothing to do
}
