package loader_test

import (
	"context"
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// A workbook's sheets become Markdown tables, one span each, so a chunk
// can say which sheet it comes from.
func ExampleLoad_spreadsheet() {
	wb := excelize.NewFile()
	wb.SetSheetName("Sheet1", "Budget")
	wb.SetSheetRow("Budget", "B2", &[]any{"Item", "Cost"})
	wb.SetSheetRow("Budget", "B3", &[]any{"Paper", 12})
	wb.NewSheet("Staff")
	wb.SetSheetRow("Staff", "A1", &[]any{"Name"})
	wb.SetSheetRow("Staff", "A2", &[]any{"Ada"})
	buf, _ := wb.WriteToBuffer()

	docs, err := loader.Load(context.Background(), &loader.File{Name: "plan.xlsx", Data: buf.Bytes()})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := docs[0]
	fmt.Println(d.Content)
	s, _ := document.SpanAt(d.Spans, len(d.Content)-1)
	fmt.Printf("\nthe last line is on sheet %q\n", s.Label)
	// Output:
	// ## Budget
	//
	// | Item | Cost |
	// | --- | --- |
	// | Paper | 12 |
	//
	// ## Staff
	//
	// | Name |
	// | --- |
	// | Ada |
	//
	// the last line is on sheet "Staff"
}
