package loader_test

import (
	"archive/zip"
	"bytes"
	"testing"
)

// part is one entry of a zip container a test builds.
type part struct{ name, body string }

// container zips parts, in order, the way an Office program or pandoc
// writes its files.
func container(t testing.TB, parts ...part) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	relsHead = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	relType  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships/`
	wNS      = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"`
	coreXML  = `<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Quarterly Report</dc:title><dc:creator>Ada Lovelace</dc:creator><dc:language>en-GB</dc:language><dcterms:created>2024-03-01T09:30:00Z</dcterms:created><dcterms:modified>2024-03-02T10:00:00Z</dcterms:modified></cp:coreProperties>`
)

func rel(id, typ, target string) string {
	return `<Relationship Id="` + id + `" Type="` + relType + typ + `" Target="` + target + `"/>`
}

func wp(style, text string) string {
	s := `<w:p>`
	if style != "" {
		s += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return s + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

func wli(numID, ilvl, text string) string {
	return `<w:p><w:pPr><w:numPr><w:ilvl w:val="` + ilvl + `"/><w:numId w:val="` + numID + `"/></w:numPr></w:pPr><w:r><w:t>` + text + `</w:t></w:r></w:p>`
}

// sampleDOCX is a Word document with every structure the loader reads.
func sampleDOCX(t testing.TB) []byte {
	body := wp("Title", "Quarterly Report") +
		wp("Berschrift1", "Results") + // a localised style ID, named "heading 1"
		`<w:p><w:r><w:t>Sales rose </w:t></w:r><w:del><w:r><w:delText>slightly </w:delText></w:r></w:del><w:ins><w:r><w:t>sharply</w:t></w:r></w:ins><w:r><w:tab/><w:t>this year.</w:t><w:footnoteReference w:id="1"/></w:r></w:p>` +
		wli("1", "0", "north") + wli("1", "1", "coast") + wli("1", "0", "south") +
		wli("2", "0", "plan") + wli("2", "0", "build") +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Region</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Total</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Note</w:t></w:r></w:p></w:tc></w:tr>` +
		`<w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>All | regions</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>up</w:t></w:r></w:p><w:p><w:r><w:t>a lot</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
		`<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>text</w:t></w:r></w:p>` +
		`<w:p><w:pPr><w:outlineLvl w:val="2"/></w:pPr><w:r><w:t>Outlined</w:t></w:r></w:p>` +
		`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE \* MERGEFORMAT</w:instrText></w:r><w:r><w:t>7</w:t></w:r></w:p>` +
		wp("", "1. Not a list") + wp("NumHead", "Methods") + wp("ListBulletX", "styled item")
	return container(t,
		part{"_rels/.rels", relsHead + rel("rId1", "officeDocument", "word/document.xml") + rel("rId2", "metadata/core-properties", "docProps/core.xml") + `</Relationships>`},
		part{"docProps/core.xml", coreXML},
		part{"word/_rels/document.xml.rels", relsHead + rel("rId1", "styles", "styles.xml") + rel("rId2", "numbering", "numbering.xml") + rel("rId3", "footnotes", "footnotes.xml") + `</Relationships>`},
		part{"word/styles.xml", `<w:styles ` + wNS + `><w:style w:type="paragraph" w:styleId="Berschrift1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="NumHead"><w:name w:val="Numbered Head"/><w:basedOn w:val="Berschrift1"/><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="2"/></w:numPr></w:pPr></w:style><w:style w:type="paragraph" w:styleId="ListBulletX"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style></w:styles>`},
		part{"word/numbering.xml", `<w:numbering ` + wNS + `><w:abstractNum w:abstractNumId="10"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum><w:abstractNum w:abstractNumId="20"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="20"/></w:num></w:numbering>`},
		part{"word/footnotes.xml", `<w:footnotes ` + wNS + `><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>----</w:t></w:r></w:p></w:footnote><w:footnote w:id="1">` + wp("", "Audited figures.") + `</w:footnote></w:footnotes>`},
		part{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document ` + wNS + `><w:body>` + body + `<w:sectPr/></w:body></w:document>`},
	)
}

const sampleDOCXMarkdown = `# Quarterly Report

# Results

Sales rose sharply this year.

- north
    - coast
- south

1. plan
2. build

| Region | Total | Note |
| --- | --- | --- |
| All \| regions |  | up a lot |

boxed text

### Outlined

7

1\. Not a list

# Methods

- styled item

Audited figures.`

const pNS = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`

func pSlide(shapes string) string {
	return `<p:sld ` + pNS + `><p:cSld><p:spTree>` + shapes + `</p:spTree></p:cSld></p:sld>`
}

func pShape(ph, paras string) string {
	nv := `<p:nvPr/>`
	if ph != "" {
		nv = `<p:nvPr><p:ph ` + ph + `/></p:nvPr>`
	}
	return `<p:sp><p:nvSpPr><p:cNvPr id="2" name="s"/><p:cNvSpPr/>` + nv + `</p:nvSpPr><p:txBody><a:bodyPr/>` + paras + `</p:txBody></p:sp>`
}

func pPara(ppr, text string) string {
	return `<a:p>` + ppr + `<a:r><a:t>` + text + `</a:t></a:r></a:p>`
}

// samplePPTX is a presentation of two slides whose files are numbered
// against their order in the presentation, the second with notes.
func samplePPTX(t testing.TB) []byte {
	first := pSlide(pShape(`type="title"`, pPara("", "Roadmap")) +
		pShape(`idx="1"`, pPara(`<a:pPr lvl="0"/>`, "ship it")+pPara(`<a:pPr lvl="1"/>`, "soon")+pPara(`<a:pPr><a:buNone/></a:pPr>`, "no bullet")+pPara(`<a:pPr><a:buAutoNum type="arabicPeriod"/></a:pPr>`, "step")) +
		pShape(`type="sldNum" idx="12"`, pPara("", "1")) +
		`<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Q1</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Q2</a:t></a:r></a:p></a:txBody></a:tc></a:tr><a:tr><a:tc><a:txBody><a:p><a:r><a:t>10</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>20</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>`)
	second := pSlide(pShape(`type="ctrTitle"`, pPara("", "Thanks")) + pShape("", pPara("", "a free text box")))
	notes := `<p:notes ` + pNS + `><p:cSld><p:spTree>` + pShape(`type="sldImg"`, "") + pShape(`type="body" idx="1"`, pPara("", "Say goodbye.")) + pShape(`type="sldNum" idx="5"`, pPara("", "2")) + `</p:spTree></p:cSld></p:notes>`
	return container(t,
		part{"_rels/.rels", relsHead + rel("rId1", "officeDocument", "ppt/presentation.xml") + rel("rId2", "metadata/core-properties", "docProps/core.xml") + `</Relationships>`},
		part{"docProps/core.xml", coreXML},
		part{"ppt/_rels/presentation.xml.rels", relsHead + rel("rId7", "slide", "slides/slide1.xml") + rel("rId8", "slide", "slides/slide2.xml") + `</Relationships>`},
		part{"ppt/presentation.xml", `<p:presentation ` + pNS + `><p:sldIdLst><p:sldId id="256" r:id="rId8"/><p:sldId id="257" r:id="rId7"/></p:sldIdLst></p:presentation>`},
		part{"ppt/slides/slide2.xml", first},
		part{"ppt/slides/slide1.xml", second},
		part{"ppt/slides/_rels/slide1.xml.rels", relsHead + rel("rId1", "notesSlide", "../notesSlides/notesSlide1.xml") + `</Relationships>`},
		part{"ppt/notesSlides/notesSlide1.xml", notes},
	)
}

const odtNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"`

// sampleODT is an OpenDocument text with headings, lists, a table, a
// note and an annotation.
func sampleODT(t testing.TB) []byte {
	content := `<?xml version="1.0" encoding="UTF-8"?><office:document-content ` + odtNS + `><office:automatic-styles>` +
		`<style:style style:name="P9" style:family="paragraph" style:parent-style-name="Title"/>` +
		`<text:list-style style:name="L1"><text:list-level-style-bullet text:level="1"/><text:list-level-style-number text:level="2"/></text:list-style>` +
		`<text:list-style style:name="L2"><text:list-level-style-number text:level="1"/></text:list-style>` +
		`</office:automatic-styles><office:body><office:text><text:sequence-decls><text:sequence-decl text:name="Table"/></text:sequence-decls>` +
		`<text:p text:style-name="P9">Field Notes</text:p>` +
		`<text:h text:outline-level="2">Day  one</text:h>` +
		"<text:p>We   walked<text:s text:c=\"2\"/>far<text:tab/>and\n wide.<text:note text:note-class=\"footnote\"><text:note-citation>1</text:note-citation><text:note-body><text:p>Twenty miles.</text:p></text:note-body></text:note><office:annotation><text:p>check this</text:p></office:annotation></text:p>" +
		`<text:list text:style-name="L1"><text:list-item><text:p>birds</text:p><text:list><text:list-item><text:p>heron</text:p></text:list-item><text:list-item><text:p>kite</text:p></text:list-item></text:list></text:list-item></text:list>` +
		`<text:list text:style-name="L2"><text:list-item><text:p>rest</text:p><text:p>and eat</text:p></text:list-item></text:list>` +
		`<table:table><table:table-header-rows><table:table-row><table:table-cell><text:p>Bird</text:p></table:table-cell><table:table-cell><text:p>Count</text:p></table:table-cell></table:table-row></table:table-header-rows><table:table-row><table:table-cell><text:p>heron</text:p></table:table-cell><table:table-cell><text:p>3</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000"/></table:table-row></table:table>` +
		`</office:text></office:body></office:document-content>`
	meta := `<office:document-meta ` + odtNS + `><office:meta><dc:title>Field Notes</dc:title><meta:initial-creator>Gilbert White</meta:initial-creator><dc:creator>Someone Else</dc:creator><dc:language>en</dc:language><meta:creation-date>1789-05-01T08:00:00</meta:creation-date><dc:date>1789-06-01T08:00:00</dc:date></office:meta></office:document-meta>`
	return container(t, part{"mimetype", "application/vnd.oasis.opendocument.text"}, part{"content.xml", content}, part{"meta.xml", meta})
}

const sampleODTMarkdown = `# Field Notes

## Day one

We walked far and wide.

- birds
    1. heron
    2. kite

1. rest
    and eat

| Bird | Count |
| --- | --- |
| heron | 3 |

Twenty miles.`

func xhtml(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>ignored</title><style>p{}</style></head><body>` + body + `</body></html>`
}

// sampleEPUB is a book of three chapters whose spine orders them
// against the manifest, labelled by the nav document, the NCX and a
// heading.
func sampleEPUB(t testing.TB) []byte {
	opf := `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>A Small Book</dc:title><dc:creator>Jo March</dc:creator><dc:language>fr</dc:language><dc:date>1868-09-30</dc:date><meta property="dcterms:modified">2020-01-01T00:00:00Z</meta></metadata>` +
		`<manifest><item id="c3" href="text/three.xhtml" media-type="application/xhtml+xml"/><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/><item id="c1" href="text/one%20a.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/><item id="img" href="cover.png" media-type="image/png"/></manifest>` +
		`<spine toc="ncx"><itemref idref="nav"/><itemref idref="c1"/><itemref idref="img"/><itemref idref="c2"/><itemref idref="c3"/></spine></package>`
	nav := xhtml(`<nav epub:type="toc"><ol><li><a href="text/one%20a.xhtml#start">Beginnings</a></li></ol></nav><nav epub:type="landmarks"><ol><li><a href="text/two.xhtml">Landmark, not a label</a></li></ol></nav>`)
	ncx := `<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap><navPoint><navLabel><text>NCX one</text></navLabel><content src="text/one%20a.xhtml"/></navPoint><navPoint><navLabel><text>Middle &amp; more</text></navLabel><content src="text/two.xhtml#x"/></navPoint></navMap></ncx>`
	return container(t,
		part{"mimetype", "application/epub+zip"},
		part{"META-INF/container.xml", `<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`},
		part{"OPS/book.opf", opf},
		part{"OPS/nav.xhtml", nav},
		part{"OPS/toc.ncx", ncx},
		part{"OPS/text/three.xhtml", xhtml(`<section><h2>The End</h2><p>They lived&nbsp;on.<br/>Happily.</p><pre>line 1
line 2</pre></section>`)},
		part{"OPS/text/one a.xhtml", xhtml(`<h1 id="start">Chapter <em>One</em></h1><p>It was <b>cold</b>.</p><ul><li>snow<ul><li>deep</li></ul></li><li>ice</li></ul><script>ignored()</script>`)},
		part{"OPS/text/two.xhtml", xhtml(`<h1>Two</h1><table><thead><tr><th>Name</th><th>Age</th></tr></thead><tbody><tr><td>Meg</td><td>16</td></tr></tbody></table><ol><li><p>first</p></li><li><p>second</p></li></ol>`)},
	)
}
