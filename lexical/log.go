package lexical

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// replay applies the records of log gen and returns the length of its
// whole records (0 when not even the header is whole). A record whose
// checksum fails at the end of the log is a write a crash interrupted,
// and is ignored; anywhere else it is corruption.
func (s *Store) replay(f *files, gen uint64) (int64, error) {
	path := f.logPath(gen)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("lexical: %w", err)
	}
	hdr := logHeader(gen, f.name)
	if len(data) < len(hdr) && bytes.HasPrefix(hdr, data) {
		return 0, nil // torn while being created
	}
	if !bytes.HasPrefix(data, hdr) {
		d := &decoder{}
		if len(data) > len(logMagic)+8 {
			d.s = string(data[len(logMagic)+8:])
		}
		if name := d.string(); bytes.HasPrefix(data, []byte(logMagic)) && d.err == nil && name != f.name {
			return 0, fmt.Errorf("lexical: %s: %w: file has %q, index has %q", path, ErrAnalyzerMismatch, name, f.name)
		}
		return 0, fmt.Errorf("lexical: %s: %w: not the log of generation %d", path, ErrCorrupt, gen)
	}
	off := len(hdr)
	for off < len(data) {
		rest := data[off:]
		if len(rest) < 8 {
			break // torn
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n > len(rest)-8 {
			break // torn
		}
		payload := rest[8 : 8+n]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			if off+8+n == len(data) {
				break // torn last record
			}
			return 0, fmt.Errorf("lexical: %s: %w: record at byte %d fails its checksum", path, ErrCorrupt, off)
		}
		preps, err := s.decodeLogRecord(payload)
		if err != nil {
			return 0, fmt.Errorf("lexical: %s: record at byte %d: %w", path, off, err)
		}
		s.applyAll(preps)
		off += 8 + n
	}
	f.logSize += int64(off)
	return int64(off), nil
}

func logHeader(gen uint64, name string) []byte {
	b := binary.LittleEndian.AppendUint64([]byte(logMagic), gen)
	b = appendString(b, name)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func encodeLogRecord(preps []prepared) []byte {
	b := make([]byte, 8, 1024)
	b = binary.AppendUvarint(b, uint64(len(preps)))
	for i := range preps {
		p := &preps[i]
		if p.doc == nil {
			b = appendString(append(b, 'd'), p.id)
		} else {
			b = appendDoc(append(b, 'u'), p.id, p.doc, nil)
			for _, e := range p.entries {
				b = binary.AppendUvarint(b, uint64(len(e.terms)))
				for _, tf := range e.terms {
					b = binary.AppendUvarint(appendString(b, tf.term), uint64(tf.tf))
				}
			}
		}
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-8))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crcTable))
	return b
}

// decodeLogRecord turns a log record back into the writes it holds.
func (s *Store) decodeLogRecord(payload []byte) ([]prepared, error) {
	d := &decoder{s: string(payload)} // one copy, shared by the record's strings
	preps := make([]prepared, d.count(2))
	for i := range preps {
		switch d.byte() {
		case 'd':
			preps[i].id = d.string()
		case 'u':
			id, doc, _ := d.doc(false)
			if d.err != nil {
				return nil, d.err
			}
			an := make([]analyzed, len(doc.chunks))
			for j, c := range doc.chunks {
				an[j] = analyzed{id: c.id, terms: make([]termFreq, d.count(2))}
				for k := range an[j].terms {
					term, n := d.string(), d.uvarint()
					tf := termFreq{term, int32(n)}
					if d.err == nil && (n == 0 || n > math.MaxInt32 || k > 0 && tf.term <= an[j].terms[k-1].term) {
						d.fail("bad term")
					}
					an[j].terms[k] = tf
				}
			}
			if d.err != nil {
				return nil, d.err
			}
			preps[i] = prepared{id: id, doc: doc, entries: an}
		default:
			d.fail("unknown log item")
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	if d.err == nil && len(d.s) != 0 {
		d.fail("%d trailing bytes", len(d.s))
	}
	return preps, d.err
}

// append writes a batch to the log and syncs it. A failed write is cut
// off again, so the log never holds a write that did not return nil.
// Caller holds wmu.
func (f *files) append(preps []prepared) error {
	if f.closed {
		return ErrClosed
	}
	if f.broken != nil {
		return f.broken
	}
	if f.log == nil {
		lf, err := createFile(f.logPath(f.gen), logHeader(f.gen, f.name))
		if err != nil {
			return fmt.Errorf("lexical: log: %w", err)
		}
		f.log = lf
	}
	rec := encodeLogRecord(preps)
	size, err := f.log.Seek(0, io.SeekEnd)
	if err == nil {
		if _, err = f.log.Write(rec); err == nil {
			err = f.log.Sync()
		}
	}
	if err != nil {
		if terr := f.log.Truncate(size); terr != nil {
			f.broken = fmt.Errorf("lexical: log %s: a failed write could not be undone (%v): %w", f.log.Name(), terr, err)
		}
		return fmt.Errorf("lexical: log: %w", err)
	}
	f.logSize += int64(len(rec))
	return nil
}

// createFile creates path with content, synced, and syncs its directory
// so that the file survives a crash.
func createFile(path string, content []byte) (*os.File, error) {
	lf, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err = lf.Write(content); err == nil {
		err = lf.Sync()
	}
	if err != nil {
		lf.Close()
		os.Remove(path)
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return lf, nil
}
