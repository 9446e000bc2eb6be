package mdwrite

import (
	"reflect"
	"testing"
)

func TestStructure(t *testing.T) {
	var w Writer
	w.HeadingText(1, "  Title \n here ")
	w.Paragraph("# not a heading")
	w.StartList(false)
	w.StartItem()
	w.Text("first")
	w.EndItem()
	w.StartItem()
	w.Text("second")
	w.StartList(true)
	w.StartItem()
	w.Text("one")
	w.EndItem()
	w.StartItem()
	w.Text("two")
	w.EndBlock()
	w.Text("more of two")
	w.EndItem()
	w.EndList()
	w.EndItem()
	w.EndList()
	w.StartList(true)
	w.StartItem()
	w.Text("again one")
	w.EndItem()
	w.EndList()
	w.Paragraph("1. not a list")
	want := "# Title here\n\n" +
		"\\# not a heading\n\n" +
		"- first\n- second\n    1. one\n    2. two\n        more of two\n\n" +
		"1. again one\n\n" +
		"1\\. not a list"
	if got := w.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if w.FirstHeading() != "Title here" {
		t.Errorf("FirstHeading = %q", w.FirstHeading())
	}
}

func TestTable(t *testing.T) {
	var w Writer
	w.StartTable()
	for _, r := range [][]string{{"A", "", "B|C"}, {"", "", ""}, {"1", "", "2"}} {
		w.StartRow()
		for _, c := range r {
			w.StartCell()
			w.Paragraph(c)
			w.EndCell()
		}
		w.EndRow()
	}
	w.EndTable()
	want := "| A | B\\|C |\n| --- | --- |\n| 1 | 2 |"
	if got := w.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBlocksInACellAndNestedTablesFlatten(t *testing.T) {
	var w Writer
	w.StartTable()
	w.StartRow()
	w.StartCell()
	w.HeadingText(2, "head")
	w.StartList(false)
	w.StartItem()
	w.Text("item")
	w.EndItem()
	w.EndList()
	w.StartTable()
	w.StartRow()
	w.StartCell()
	w.Text("inner")
	w.EndCell()
	w.EndRow()
	w.EndTable()
	w.EndCell()
	w.EndRow()
	w.EndTable()
	if got, want := w.String(), "| head item inner |\n| --- |"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTrim(t *testing.T) {
	got := Trim([][]string{{"", "", ""}, {"", "x", "", ""}, {"", "", "", " "}, {"", "y\n z"}})
	want := [][]string{{"x"}, {"y z"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Trim = %q, want %q", got, want)
	}
	if Trim([][]string{{"", " "}}) != nil {
		t.Error("Trim of blank rows is not nil")
	}
}

func TestCodeKeepsLinesAndOutgrowsFences(t *testing.T) {
	var w Writer
	w.Code("a\n```\nb")
	if got, want := w.String(), "````\na\n```\nb\n````"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestItemOpensAndClosesListsByDepth(t *testing.T) {
	var w Writer
	bullets := func(int) bool { return false }
	numbers := func(int) bool { return true }
	w.Item(0, bullets, "a")
	w.Item(2, func(d int) bool { return d == 1 }, "deep") // level 1 skipped: one deeper only
	w.Item(0, bullets, "b")
	w.Item(0, numbers, "one")
	w.CloseLists(0)
	w.Paragraph("after")
	got := w.String()
	want := "- a\n    1. deep\n- b\n\n1. one\n\nafter"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
