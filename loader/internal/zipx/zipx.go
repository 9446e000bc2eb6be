// Package zipx reads zip containers (DOCX, PPTX, XLSX, ODT, EPUB) within
// limits: how many entries the archive may hold and how many bytes its
// entries may inflate to, all together. The bytes are counted as they are
// inflated, not taken from the headers, so an entry that claims to be
// small and inflates to gigabytes is stopped at the limit.
package zipx

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Errors Open and ReadFile return.
var (
	// ErrNotZip: the data is not a zip archive.
	ErrNotZip = errors.New("zipx: not a zip archive")
	// ErrTooLarge: the archive holds more entries than allowed, or its
	// entries inflate to more bytes than allowed.
	ErrTooLarge = errors.New("zipx: archive exceeds its limits")
	// ErrNotExist: the archive has no entry of that name.
	ErrNotExist = errors.New("zipx: no such entry")
	// ErrCorrupt: an entry cannot be inflated (bad data, bad checksum,
	// unsupported compression).
	ErrCorrupt = errors.New("zipx: corrupt entry")
)

// Limits bound what an Archive may read. A negative field means no limit;
// zero means zero (the caller applies its own defaults first).
type Limits struct {
	// MaxUncompressed is the most bytes all reads together may inflate.
	MaxUncompressed int64
	// MaxEntries is the most entries the archive may hold.
	MaxEntries int
}

// cfbMagic starts every Compound File Binary (OLE2) container: what an
// encrypted OOXML file, or a legacy .doc/.xls/.ppt, is instead of a zip.
var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// IsCFB reports whether data is a Compound File Binary container.
func IsCFB(data []byte) bool { return bytes.HasPrefix(data, cfbMagic) }

// encryptionInfo is the name of the stream an encrypted OOXML package
// keeps its key data in (MS-OFFCRYPTO), as CFB directory entries spell
// names: UTF-16LE.
var encryptionInfo = utf16le("EncryptionInfo")

// IsEncryptedOOXML reports whether data is a CFB container holding an
// encrypted OOXML package (a password-protected .docx, .xlsx or .pptx).
func IsEncryptedOOXML(data []byte) bool {
	return IsCFB(data) && bytes.Contains(data, encryptionInfo)
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

// Archive is an opened zip archive and the budget of bytes its reads may
// still inflate.
//
// Concurrency: an Archive is not safe for concurrent use; the budget is
// shared by all its reads.
type Archive struct {
	zr     *zip.Reader
	exact  map[string]*zip.File
	folded map[string]*zip.File // lower-cased names, for case-insensitive lookup
	left   int64                // bytes the reads may still inflate; negative: no limit
}

// Open opens data as a zip archive within lim. It fails with ErrNotZip
// when data is not a zip, and ErrTooLarge when it holds more than
// lim.MaxEntries entries.
func Open(data []byte, lim Limits) (*Archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// An insecure path ("../x") harms only code that writes entries
		// to disk; this package only reads them.
		return nil, fmt.Errorf("%w: %w", ErrNotZip, err)
	}
	if lim.MaxEntries >= 0 && len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, limit %d", ErrTooLarge, len(zr.File), lim.MaxEntries)
	}
	a := &Archive{
		zr:     zr,
		exact:  make(map[string]*zip.File, len(zr.File)),
		folded: make(map[string]*zip.File, len(zr.File)),
		left:   lim.MaxUncompressed,
	}
	for _, f := range zr.File {
		name := strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/")
		if _, dup := a.exact[name]; !dup {
			a.exact[name] = f
		}
		if _, dup := a.folded[strings.ToLower(name)]; !dup {
			a.folded[strings.ToLower(name)] = f
		}
	}
	return a, nil
}

// Has reports whether the archive has an entry named name (see ReadFile
// for how names match).
func (a *Archive) Has(name string) bool { return a.lookup(name) != nil }

// Names returns the names of the archive's entries, in the archive's
// order. The caller owns the slice.
func (a *Archive) Names() []string {
	names := make([]string, len(a.zr.File))
	for i, f := range a.zr.File {
		names[i] = f.Name
	}
	return names
}

// DeclaredSize returns the sum of the sizes the entries' headers claim.
// Go's archive/zip fails any read that inflates past an entry's claimed
// size, so this bounds what a reader of the whole archive inflates.
func (a *Archive) DeclaredSize() uint64 {
	var n uint64
	for _, f := range a.zr.File {
		if n+f.UncompressedSize64 < n {
			return ^uint64(0)
		}
		n += f.UncompressedSize64
	}
	return n
}

func (a *Archive) lookup(name string) *zip.File {
	name = strings.TrimPrefix(name, "/")
	if f, ok := a.exact[name]; ok {
		return f
	}
	return a.folded[strings.ToLower(name)]
}

// ReadFile inflates the entry named name: a path inside the archive,
// without a leading slash (one is ignored), matched exactly and then
// case-insensitively, as OOXML part names are. Its bytes count against
// the archive's budget; past it ReadFile fails with ErrTooLarge.
func (a *Archive) ReadFile(name string) ([]byte, error) {
	f := a.lookup(name)
	if f == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotExist, name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorrupt, name, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if a.left >= 0 {
		r = io.LimitReader(rc, a.left+1)
	}
	var buf bytes.Buffer
	if f.UncompressedSize64 < 1<<20 {
		// A hint only: a lying header costs at most a megabyte here.
		buf.Grow(int(f.UncompressedSize64))
	}
	n, err := buf.ReadFrom(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorrupt, name, err)
	}
	if a.left >= 0 {
		if n > a.left {
			a.left = 0
			return nil, fmt.Errorf("%w: entry %q inflates past the limit on uncompressed bytes", ErrTooLarge, name)
		}
		a.left -= n
	}
	return buf.Bytes(), nil
}

// Resolve returns the archive path that target names when it appears in
// the part at base (a relationship's or a link's target): relative to
// base's directory, or from the root when it starts with '/'. A fragment
// ("#id") and a query are dropped; ".." cannot climb above the root.
func Resolve(base, target string) string {
	if i := strings.IndexAny(target, "#?"); i >= 0 {
		target = target[:i]
	}
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	p := path.Join("/", path.Dir("/"+base), target)
	return strings.TrimPrefix(p, "/")
}
