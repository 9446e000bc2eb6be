package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// BenchUpsert measures a store replacing 64 documents of 4 records of
// 1,536 dimensions a call, the shape of the pipeline's writes, with Upsert
// and, when the store is a store.VectorTaker, with UpsertTakingVectors.
// Each call writes fresh vectors, as the pipeline's are freshly decoded;
// their making (one allocation and copy a record) is in every figure. It
// reports ns/record besides the usual figures. newStore is called once a
// sub-benchmark, and must arrange to close the store.
func BenchUpsert(b *testing.B, newStore func(b *testing.B) store.Store) {
	const docs, perDoc, dim = 64, 4, 1536
	rng := rand.New(rand.NewPCG(1, 2))
	template := make([]store.StoredDocument, docs)
	for i := range template {
		d := store.StoredDocument{ID: fmt.Sprintf("doc-%03d", i), Hash: "h"}
		for c := range perDoc {
			v := make([]float32, dim)
			for j := range v {
				v[j] = rng.Float32()*2 - 1
			}
			d.Records = append(d.Records, store.Record{
				ID: fmt.Sprintf("doc-%03d#%d", i, c), DocID: d.ID, Chunk: c, Vector: v,
				Text: "some chunk text", Source: "file://" + d.ID, Title: "Title",
			})
		}
		template[i] = d
	}
	fresh := func() []store.StoredDocument {
		out := make([]store.StoredDocument, len(template))
		for i, d := range template {
			out[i] = store.StoredDocument{ID: d.ID, Hash: d.Hash, Records: make([]store.Record, len(d.Records))}
			for j, r := range d.Records {
				r.Vector = append([]float32(nil), r.Vector...)
				out[i].Records[j] = r
			}
		}
		return out
	}
	run := func(b *testing.B, upsert func(context.Context, []store.StoredDocument) error) {
		b.ReportAllocs()
		for b.Loop() {
			if err := upsert(context.Background(), fresh()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*docs*perDoc), "ns/record")
	}
	b.Run("Upsert", func(b *testing.B) { run(b, newStore(b).Upsert) })
	if _, ok := newStore(b).(store.VectorTaker); ok {
		b.Run("UpsertTakingVectors", func(b *testing.B) { run(b, newStore(b).(store.VectorTaker).UpsertTakingVectors) })
	}
}
