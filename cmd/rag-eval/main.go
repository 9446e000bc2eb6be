// Command rag-eval is `rag eval` (see cmd/rag) under its former name: it
// evaluates retrieval configurations of the rag pipeline on a BEIR
// dataset and prints a table of nDCG@10, recall@100, MRR@10 and query
// latency.
//
//	go run ./cmd/rag-eval                                  # SciFact from ../shared/data/scifact
//	go run ./cmd/rag-eval -data path/to/beir/dataset -split test -modes bm25,hybrid
//	go run ./cmd/rag-eval -vector char4                    # Hashing of character 4-grams, 4,096 dimensions
//
// Run it with -h for the configurations and flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ragkit-go/rag/cmd/internal/evalcmd"
)

func main() {
	if err := evalcmd.Run(context.Background(), "rag-eval", os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "rag-eval:", err)
		os.Exit(1)
	}
}
