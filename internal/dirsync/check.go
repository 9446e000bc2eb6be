package dirsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/store"
)

// stamp identifies one version of a file by what a walk sees of it.
func stamp(salt, root, p string, size int64, mod time.Time) string {
	h := sha256.New()
	writeFields(h, salt, root, p, strconv.FormatInt(size, 10), strconv.FormatInt(mod.UnixNano(), 10))
	return sum(h)
}

// contentHash identifies one version of a file by its bytes. The path is
// part of it, so that a file holding what another held never passes for
// unchanged.
func (s *syncer) contentHash(f *file, data []byte) string {
	h := s.fileHasher(f)
	h.Write(data)
	return sum(h)
}

func (s *syncer) fileHasher(f *file) hash.Hash {
	h := sha256.New()
	writeFields(h, s.cfg.Salt, s.cfg.Root, f.path)
	return h
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)[:16]) }

func writeFields(h hash.Hash, fields ...string) {
	for _, s := range fields {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
}

// check lists the root's documents and marks unchanged the files the store
// holds all documents of in their current version: by stamp first (not
// even read), then, for the other files the store holds documents of, by
// the hash of their bytes (read, not parsed: a file touched but not
// changed). It returns the files to parse.
//
// Listings: the root; the stamps; the last documents of files of several
// documents, when the root has some; the hashes, when some stamp changed.
func (s *syncer) check(ctx context.Context) ([]*file, error) {
	inRoot := store.Eq(document.MetaSyncRoot, s.cfg.Root)
	ids, err := s.cfg.List(ctx, inRoot)
	if err != nil {
		return nil, fmt.Errorf("dirsync: listing the root: %w", err)
	}
	s.rootIDs = ids
	if s.cfg.Force {
		return s.files, nil
	}
	held := map[*file]bool{} // files the store holds documents of
	multi := false
	for _, id := range ids {
		if f, n, ok := s.fileOf(id); ok {
			held[f] = true
			multi = multi || n > 0
		}
	}
	if len(held) == 0 {
		return s.files, nil
	}
	var stamps []string
	for _, f := range s.files {
		if held[f] {
			stamps = append(stamps, f.stamp)
		}
	}
	current := map[*file]map[string]int{} // IDs of each file's current version → their n
	add := func(ids []string) {
		for _, id := range ids {
			if f, n, ok := s.fileOf(id); ok {
				if current[f] == nil {
					current[f] = map[string]int{}
				}
				current[f][id] = n
			}
		}
	}
	ids, err = s.cfg.List(ctx, store.And(inRoot, store.In(document.MetaFileStamp, stamps...)))
	if err != nil {
		return nil, fmt.Errorf("dirsync: listing stamps: %w", err)
	}
	add(ids)
	// A file of several documents is whole only if all of them are
	// there: its last one says how many there are.
	lastIDs := map[string]bool{}
	if multi {
		ids, err := s.cfg.List(ctx, store.And(inRoot, store.Eq(document.MetaFileLast, true)))
		if err != nil {
			return nil, fmt.Errorf("dirsync: listing last documents: %w", err)
		}
		for _, id := range ids {
			lastIDs[id] = true
		}
	}
	// whole returns the IDs of f's current version if all are there.
	whole := func(f *file) map[string]bool {
		got := current[f]
		if _, ok := got[DocID(s.cfg.Root, f.path, 0)]; ok {
			return map[string]bool{DocID(s.cfg.Root, f.path, 0): true}
		}
		n := 0
		for id, i := range got {
			if lastIDs[id] {
				n = max(n, i)
			}
		}
		if n == 0 {
			return nil
		}
		out := make(map[string]bool, n)
		for i := 1; i <= n; i++ {
			id := DocID(s.cfg.Root, f.path, i)
			if _, ok := got[id]; !ok {
				return nil
			}
			out[id] = true
		}
		return out
	}
	var touched []*file
	for _, f := range s.files {
		if held[f] && whole(f) == nil {
			touched = append(touched, f)
		}
	}
	if len(touched) > 0 {
		hashes, err := s.hashFiles(ctx, touched)
		if err != nil {
			return nil, err
		}
		if len(hashes) > 0 {
			ids, err := s.cfg.List(ctx, store.And(inRoot, store.In(document.MetaFileHash, hashes...)))
			if err != nil {
				return nil, fmt.Errorf("dirsync: listing hashes: %w", err)
			}
			add(ids)
		}
	}
	var toParse []*file
	for _, f := range s.files {
		ids := whole(f)
		if ids == nil {
			toParse = append(toParse, f)
			continue
		}
		f.ids = ids
		f.settled = true
		f.res.Status = Unchanged
		f.res.Documents = len(ids)
		s.prog.Settled++
		s.prog.Unchanged++
	}
	return toParse, nil
}

// hashFiles returns the content hashes of files, read Concurrency at a
// time. A file that cannot be read is left out: parsing it will say why.
func (s *syncer) hashFiles(ctx context.Context, files []*file) ([]string, error) {
	hashes := make([]string, len(files))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.cfg.Concurrency))
	for i, f := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := s.fsys.Open(f.path)
			if err != nil {
				return nil
			}
			defer r.Close()
			h := s.fileHasher(f)
			if _, err := io.Copy(h, r); err != nil {
				return nil
			}
			hashes[i] = sum(h)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := hashes[:0]
	for _, h := range hashes {
		if h != "" {
			out = append(out, h)
		}
	}
	return out, nil
}
