package provider

import (
	"errors"
	"net/http"
	"os"
	"strings"
)

// DefaultOpenAIBaseURL is OpenAI's own API, the base URL of an
// OpenAIConfig without one.
const DefaultOpenAIBaseURL = "https://api.openai.com/v1"

// ErrMissingAPIKey: no API key for a server that needs one (OpenAI's own
// API, or Azure). Calls fail with it rather than send requests without
// credentials.
var ErrMissingAPIKey = errors.New("provider: no API key: set OPENAI_API_KEY or the APIKey option (local servers: set BaseURL)")

// OpenAIConfig is how to reach an OpenAI-compatible API: OpenAI itself,
// Azure OpenAI, or any server speaking its protocol (Ollama, vLLM,
// LiteLLM, llama.cpp's server, openaitest.Server). The OpenAI clients of
// embed and llm embed it in their options. Only APIKey is needed for
// OpenAI itself; the zero value is OpenAI's API without a key, which
// Validate refuses.
type OpenAIConfig struct {
	// APIKey is sent as "Authorization: Bearer <APIKey>" (as "api-key"
	// for Azure). It may be empty for a server that needs none, at a
	// BaseURL other than OpenAI's.
	APIKey string

	// BaseURL is the API's base URL; default DefaultOpenAIBaseURL. For
	// Ollama, "http://localhost:11434/v1". On Azure, the resource
	// endpoint, "https://<resource>.openai.azure.com".
	BaseURL string

	// Organization is sent as the OpenAI-Organization header when set.
	Organization string

	// Azure switches to Azure OpenAI: the key goes in the api-key header,
	// the model names a deployment, and requests carry AzureAPIVersion
	// (default: the client's own).
	Azure           bool
	AzureAPIVersion string

	// HTTPClient sends the requests. It is not modified: clients use a
	// copy whose Transport is wrapped to read rate-limit headers and to
	// report headers to WithHeaderObserver. Default: a client sharing one
	// transport that keeps up to 100 idle connections per host.
	HTTPClient *http.Client
}

// OpenAIFromEnv returns the configuration the environment gives:
// OpenAIConfig{}.WithEnv().
func OpenAIFromEnv() OpenAIConfig { return OpenAIConfig{}.WithEnv() }

// WithEnv returns c with APIKey, BaseURL and Organization, where empty,
// taken from the environment variables OPENAI_API_KEY, OPENAI_BASE_URL
// and OPENAI_ORG_ID. It is the one place of the module that reads them.
func (c OpenAIConfig) WithEnv() OpenAIConfig {
	if c.APIKey == "" {
		c.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	if c.BaseURL == "" {
		c.BaseURL = os.Getenv("OPENAI_BASE_URL")
	}
	if c.Organization == "" {
		c.Organization = os.Getenv("OPENAI_ORG_ID")
	}
	return c
}

// URL returns the base URL requests go to: BaseURL without a trailing
// slash, or DefaultOpenAIBaseURL.
func (c OpenAIConfig) URL() string {
	if u := strings.TrimRight(c.BaseURL, "/"); u != "" {
		return u
	}
	return DefaultOpenAIBaseURL
}

// Official reports whether c speaks to OpenAI's own API or to Azure
// OpenAI, rather than to a compatible server that may lag behind them.
func (c OpenAIConfig) Official() bool { return c.Azure || c.URL() == DefaultOpenAIBaseURL }

// Validate returns ErrMissingAPIKey when c has no APIKey and speaks to a
// server that needs one: OpenAI's own API (BaseURL empty or
// DefaultOpenAIBaseURL) or Azure.
func (c OpenAIConfig) Validate() error {
	if c.APIKey == "" && c.Official() {
		return ErrMissingAPIKey
	}
	return nil
}
