package pdf_test

import (
	"strings"
	"testing"
)

// TestTurnedText: text a matrix turns (up the page, down it, upside down)
// comes out as lines of words, not a character a line.
func TestTurnedText(t *testing.T) {
	d, err := load(t, testPDF{pages: []string{
		"BT /F1 12 Tf 0 1 -1 0 300 100 Tm (Rotated text runs up the page) Tj ET\n" +
			"BT /F1 12 Tf 0 -1 1 0 400 700 Tm (And this one runs down) Tj ET\n" +
			"BT /F1 12 Tf -1 0 0 -1 500 500 Tm (Upside down words) Tj ET\n" +
			"BT /F1 12 Tf 72 50 Td (Upright at the foot.) Tj ET\n",
	}}.bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Rotated text runs up the page", "And this one runs down", "Upside down words", "Upright at the foot."}
	if got := strings.Split(d.Content, "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
}
