package embedtest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/provider"
)

func TestFakeConformance(t *testing.T) {
	embedtest.Run(t, &embedtest.Fake{}, embedtest.Options{Deterministic: true, LargeBatch: 100})
	embedtest.Run(t, &embedtest.Fake{Dims: 8}, embedtest.Options{Deterministic: true, Dimensions: 8})
}

func TestFakeVectorsAndCounts(t *testing.T) {
	f := &embedtest.Fake{}
	if f.Dimensions() != embedtest.DefaultFakeDimensions || f.Name() != "fake:64" {
		t.Errorf("Dimensions %d Name %q", f.Dimensions(), f.Name())
	}
	ctx := context.Background()
	in := []string{"alpha beta", "gamma"}
	got, err := f.Embed(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := embed.NewHashing(embed.HashingOptions{Dimensions: 64}).Embed(ctx, in)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("vector %d is not Hashing's", i)
		}
	}
	if _, err := f.Embed(ctx, []string{"delta"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Embed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if f.Calls() != 2 || f.Texts() != 3 {
		t.Errorf("Calls %d Texts %d, want 2 and 3 (an empty batch is no call)", f.Calls(), f.Texts())
	}
	batches := f.Batches()
	if len(batches) != 2 || !slices.Equal(batches[0], in) || !slices.Equal(batches[1], []string{"delta"}) {
		t.Errorf("Batches %q", batches)
	}
	batches[0][0] = "changed"
	if f.Batches()[0][0] != "alpha beta" {
		t.Error("Batches returned the fake's own slices")
	}
	in[0] = "changed too"
	if f.Batches()[0][0] != "alpha beta" {
		t.Error("the fake kept the caller's texts slice")
	}
	f.Reset()
	if f.Calls() != 0 || f.Texts() != 0 || len(f.Batches()) != 0 || f.MaxInFlight() != 0 {
		t.Error("Reset left counts")
	}
}

func TestFakeErrorOn(t *testing.T) {
	rateLimited := &provider.Error{StatusCode: 429, Code: "rate_limit_exceeded"}
	f := &embedtest.Fake{OnCall: embedtest.ErrorOn(rateLimited, 2, 4)}
	ctx := context.Background()
	for call := 1; call <= 5; call++ {
		vecs, err := f.Embed(ctx, []string{"x"})
		failing := call == 2 || call == 4
		if failing != (err != nil) {
			t.Fatalf("call %d: %v", call, err)
		}
		if failing {
			var ae *provider.Error
			if !errors.As(err, &ae) || ae.StatusCode != 429 || !ae.Retryable() || vecs != nil {
				t.Errorf("call %d: %v, %v; want the *provider.Error as is", call, vecs, err)
			}
		}
	}
	if f.Calls() != 5 {
		t.Errorf("Calls %d, want failing calls counted too", f.Calls())
	}
}

func TestFakeCorruptions(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(int, [][]float32) [][]float32
		want    error
	}{
		{"DropLast", embedtest.DropLast, embed.ErrCountMismatch},
		{"AddVector", embedtest.AddVector, embed.ErrCountMismatch},
		{"WrongDimension", embedtest.WrongDimension, embed.ErrDimensionMismatch},
		{"InjectNaN", embedtest.InjectNaN, embed.ErrInvalidVector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &embedtest.Fake{Dims: 8, Corrupt: embedtest.OnlyCall(tt.corrupt, 2)}
			in := []string{"a b", "c d", "e"}
			for call := 1; call <= 3; call++ {
				vecs, err := f.Embed(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				_, err = embed.Check(vecs, len(in), f.Dimensions())
				if call == 2 && !errors.Is(err, tt.want) {
					t.Errorf("call 2: embed.Check = %v, want %v", err, tt.want)
				}
				if call != 2 && err != nil {
					t.Errorf("call %d not corrupted, yet embed.Check = %v", call, err)
				}
			}
		})
	}
}

func TestFakeHoldsCallsInFlight(t *testing.T) {
	entered := make(chan int, 10)
	release := make(chan struct{})
	f := &embedtest.Fake{OnCall: func(ctx context.Context, call int, _ []string) error {
		entered <- call
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := f.Embed(context.Background(), []string{"x"}); err != nil {
				t.Error(err)
			}
		})
	}
	for range 3 {
		<-entered
	}
	if got := f.MaxInFlight(); got != 3 {
		t.Errorf("MaxInFlight %d with three calls held, want 3", got)
	}
	close(release)
	wg.Wait()

	// A call held in OnCall ends with its context.
	ctx, cancel := context.WithCancel(context.Background())
	hold := &embedtest.Fake{OnCall: func(ctx context.Context, _ int, _ []string) error {
		cancel()
		<-ctx.Done()
		return nil // ignores the cause: the fake still reports ctx.Err()
	}}
	if _, err := hold.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while held: %v", err)
	}
}

func TestFakeCancelledContext(t *testing.T) {
	f := &embedtest.Fake{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if f.Calls() != 0 {
		t.Errorf("a call with a cancelled context counted: %d", f.Calls())
	}
}
