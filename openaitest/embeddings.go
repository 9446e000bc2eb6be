package openaitest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ragkit-go/rag/embed"
)

// embeddingRequest is the body of POST /v1/embeddings.
type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

type embeddingItem struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32 or a base64 string
}

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingItem `json:"data"`
	Model  string          `json:"model"`
	Usage  usage           `json:"usage"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens,omitempty"`
	TotalTokens      int `json:"total_tokens"`
}

// decodeInput decodes "input": a string, an array of strings, an array of
// token ids or an array of arrays of token ids. Token arrays are turned
// into texts of their ids ("t15339 t1917") and counted by their length;
// tokens is nil for strings.
func decodeInput(raw json.RawMessage) (inputs []string, tokens []int, err error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, nil, nil
	}
	tokenText := func(ids []int) string {
		var b strings.Builder
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte('t')
			b.WriteString(strconv.Itoa(id))
		}
		return b.String()
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil {
		return []string{tokenText(ids)}, []int{len(ids)}, nil
	}
	var idss [][]int
	if json.Unmarshal(raw, &idss) == nil {
		for _, ids := range idss {
			inputs = append(inputs, tokenText(ids))
			tokens = append(tokens, len(ids))
		}
		return inputs, tokens, nil
	}
	return nil, nil, fmt.Errorf("'input' must be a string, an array of strings or an array of token arrays")
}

func (x *exchange) embeddings(body []byte, inFlight int) {
	s := x.s
	var req embeddingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		x.setFault("invalid")
		x.writeError(http.StatusBadRequest, "", "", "", "We could not parse the JSON body of your request. ("+err.Error()+")")
		return
	}
	var (
		inputs []string
		counts []int
		err    error
	)
	if len(req.Input) > 0 && string(req.Input) != "null" {
		inputs, counts, err = decodeInput(req.Input)
	}
	total := 0
	if err == nil {
		if counts == nil {
			counts = make([]int, len(inputs))
			for i, in := range inputs {
				counts[i] = s.count(in)
			}
		}
		for _, n := range counts {
			total += n
		}
	}
	dims := 0
	if req.Dimensions != nil {
		dims = *req.Dimensions
	}
	s.mu.Lock()
	x.rec.Model, x.rec.Inputs, x.rec.Tokens = req.Model, inputs, total
	x.rec.Dimensions, x.rec.Encoding = dims, req.EncodingFormat
	s.stats.InputsReceived += len(inputs)
	s.mu.Unlock()

	if !x.scripted() {
		return
	}
	invalid := func(param, code, msg string) {
		x.setFault("invalid")
		x.writeError(http.StatusBadRequest, "invalid_request_error", code, param, msg)
	}
	switch {
	case req.Model == "":
		invalid("model", "", "you must provide a model parameter")
		return
	case len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, req.Model):
		x.setFault("invalid")
		x.writeError(http.StatusNotFound, "invalid_request_error", "model_not_found", "",
			"The model `"+req.Model+"` does not exist or you do not have access to it.")
		return
	case err != nil:
		invalid("input", "", err.Error())
		return
	case len(req.Input) == 0 || string(req.Input) == "null":
		invalid("input", "", "'input' is a required property")
		return
	case len(inputs) == 0:
		invalid("input", "", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
		return
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		invalid("encoding_format", "", "'"+req.EncodingFormat+"' is not one of ['float', 'base64'] - 'encoding_format'")
		return
	case req.Dimensions != nil && (dims < 1 || dims > s.opts.Dimensions):
		invalid("dimensions", "", "Invalid value for 'dimensions' = "+strconv.Itoa(dims)+
			". Must be between 1 and "+strconv.Itoa(s.opts.Dimensions)+".")
		return
	case s.opts.MaxInputs > 0 && len(inputs) > s.opts.MaxInputs:
		invalid("input", "", "'$.input' is too long: "+strconv.Itoa(len(inputs))+" inputs, at most "+
			strconv.Itoa(s.opts.MaxInputs)+" are allowed per request.")
		return
	case s.opts.MaxRequestTokens > 0 && total > s.opts.MaxRequestTokens:
		invalid("input", "max_tokens_per_request", "Requested "+strconv.Itoa(total)+" tokens, max "+
			strconv.Itoa(s.opts.MaxRequestTokens)+" tokens per request")
		return
	}
	for i, in := range inputs {
		if in == "" {
			invalid("input", "", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
			return
		}
		if s.opts.MaxInputTokens > 0 && counts[i] > s.opts.MaxInputTokens {
			invalid("input", "context_length_exceeded", "This model's maximum context length is "+
				strconv.Itoa(s.opts.MaxInputTokens)+" tokens, however you requested "+strconv.Itoa(counts[i])+
				" tokens (input "+strconv.Itoa(i)+"). Please reduce your prompt; or completion length.")
			return
		}
	}

	if !x.faults(inFlight, total) {
		return
	}

	vecs, err := x.vectors(inputs, dims)
	if err != nil {
		x.setFault("error")
		x.writeError(http.StatusInternalServerError, "server_error", "", "", "openaitest: embedder failed: "+err.Error())
		return
	}
	resp := embeddingResponse{
		Object: "list",
		Data:   make([]embeddingItem, len(vecs)),
		Model:  req.Model,
		Usage:  usage{PromptTokens: total, TotalTokens: total},
	}
	for i, v := range vecs {
		item := embeddingItem{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" && !s.opts.FloatOnly {
			item.Embedding = encodeBase64(v)
		}
		resp.Data[i] = item
	}
	if s.opts.ShuffleData {
		s.mu.Lock()
		s.rng.Shuffle(len(resp.Data), func(i, j int) { resp.Data[i], resp.Data[j] = resp.Data[j], resp.Data[i] })
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.stats.Inputs += len(inputs)
	s.stats.Tokens += total
	s.mu.Unlock()
	x.writeBody(http.StatusOK, resp.appendJSON(make([]byte, 0, 64+len(vecs)*(16+len(vecs[0])*6))))
}

// appendFloat32 formats x as encoding/json does.
func appendFloat32(b []byte, x float32) []byte {
	f := float64(x)
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 32)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSON appends the answer as encoding/json would write it, but
// without scanning the megabytes of base64 for characters to escape (there
// are none), so the fake server costs its host little CPU.
func (r *embeddingResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"object":"list","data":[`...)
	for i, it := range r.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(it.Index), 10)
		b = append(b, `,"embedding":`...)
		switch e := it.Embedding.(type) {
		case string:
			b = append(b, '"')
			b = append(b, e...)
			b = append(b, '"')
		case []float32:
			b = append(b, '[')
			for j, x := range e {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendFloat32(b, x)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	model, _ := json.Marshal(r.Model)
	b = append(b, `],"model":`...)
	b = append(b, model...)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.PromptTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.TotalTokens), 10)
	return append(b, "}}\n"...)
}

// vectors embeds inputs at dims dimensions, or at the embedder's own when
// dims is 0.
func (x *exchange) vectors(inputs []string, dims int) ([][]float32, error) {
	s := x.s
	if s.opts.Embedder == nil {
		if dims == 0 {
			dims = s.opts.Dimensions
		}
		s.mu.Lock()
		h := s.hashers[dims]
		if h == nil {
			h = embed.NewHashing(embed.HashingOptions{Dimensions: dims})
			s.hashers[dims] = h
		}
		s.mu.Unlock()
		return h.Embed(x.ctx, inputs)
	}
	vecs, err := s.opts.Embedder.Embed(x.ctx, inputs)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(inputs) {
		return nil, fmt.Errorf("%d vectors for %d inputs", len(vecs), len(inputs))
	}
	if dims == 0 {
		return vecs, nil
	}
	for i, v := range vecs {
		switch {
		case len(v) < dims:
			return nil, fmt.Errorf("vector %d has %d dimensions, fewer than the %d requested", i, len(v), dims)
		case len(v) > dims:
			vecs[i] = truncate(v, dims)
		}
	}
	return vecs, nil
}

// truncate shortens v to dims components and normalises it again.
func truncate(v []float32, dims int) []float32 {
	v = slices.Clone(v[:dims])
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum > 0 {
		inv := float32(1 / math.Sqrt(sum))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

// encodeBase64 encodes v as OpenAI's base64 format: the little-endian
// bytes of the float32 components.
func encodeBase64(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(buf)
}
