package provider_test

import (
	"errors"
	"testing"

	"github.com/ragkit-go/rag/provider"
)

func TestOpenAIConfigWithEnv(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "env-key")
	t.Setenv("OPENAI_BASE_URL", "http://localhost:11434/v1/")
	t.Setenv("OPENAI_ORG_ID", "org-env")
	c := provider.OpenAIFromEnv()
	if c.APIKey != "env-key" || c.BaseURL != "http://localhost:11434/v1/" || c.Organization != "org-env" {
		t.Fatalf("from env: %+v", c)
	}
	if c.URL() != "http://localhost:11434/v1" || c.Official() {
		t.Errorf("URL %q official %v", c.URL(), c.Official())
	}
	// Explicit fields win over the environment.
	c = provider.OpenAIConfig{APIKey: "explicit", BaseURL: "http://gw/v1"}.WithEnv()
	if c.APIKey != "explicit" || c.BaseURL != "http://gw/v1" || c.Organization != "org-env" {
		t.Fatalf("explicit: %+v", c)
	}
}

func TestOpenAIConfigValidate(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OPENAI_ORG_ID", "")
	for _, tc := range []struct {
		name string
		c    provider.OpenAIConfig
		want error
	}{
		{"zero", provider.OpenAIConfig{}, provider.ErrMissingAPIKey},
		{"env without key", provider.OpenAIFromEnv(), provider.ErrMissingAPIKey},
		{"default URL spelled out", provider.OpenAIConfig{BaseURL: provider.DefaultOpenAIBaseURL + "/"}, provider.ErrMissingAPIKey},
		{"azure without key", provider.OpenAIConfig{Azure: true, BaseURL: "https://r.openai.azure.com"}, provider.ErrMissingAPIKey},
		{"local server", provider.OpenAIConfig{BaseURL: "http://localhost:11434/v1"}, nil},
		{"key", provider.OpenAIConfig{APIKey: "k"}, nil},
	} {
		if err := tc.c.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Validate() = %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := (provider.OpenAIConfig{}).URL(); got != provider.DefaultOpenAIBaseURL {
		t.Errorf("default URL %q", got)
	}
}
