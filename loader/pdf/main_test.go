package pdf_test

import (
	"os"
	"testing"

	"github.com/ragkit-go/rag/loader/pdf"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pdf.Shutdown(); err != nil {
		code = 1
	}
	os.Exit(code)
}
