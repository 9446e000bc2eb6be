// Command rag extracts, indexes, searches and answers from your documents
// with the rag library, and evaluates retrieval.
//
//	go install github.com/ragkit-go/rag/cmd/rag@latest
//
//	rag extract report.pdf notes.md       # what the loaders extract: text and metadata (--json: JSON lines)
//	rag ingest ./docs                     # sync a directory into the store ./.rag (--store DIR)
//	rag search "how do I install it?"     # hybrid search (BM25 and vectors)
//	rag ask "how do I install it?"        # an answer with citations, from an OpenAI-compatible model
//	rag eval -data scifact                # retrieval quality on a BEIR dataset (was cmd/rag-eval)
//
// Embeddings: with OPENAI_API_KEY set, OpenAI's text-embedding-3-small (or
// --embed-model, at OPENAI_BASE_URL when set); without it, the offline
// Hashing embedder, which the command says on stderr. A store remembers
// the embedder it was built with, and refuses another.
//
// rag ask needs a chat model: OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL
// (any OpenAI-compatible server: Ollama, vLLM, llama.cpp) with --model.
//
// rag ingest syncs: files unchanged since the last ingest are not read
// again, files gone from the directory are deleted from the store, and
// every file that could not be stored is listed with the reason. It shows
// a progress bar on stderr when stderr is a terminal, and a line every few
// seconds otherwise. The exit status is 1 when a file failed for another
// reason than an unsupported type, 2 for bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/ragkit-go/rag/cmd/internal/evalcmd"
	_ "github.com/ragkit-go/rag/loader/pdf" // PDF files, beside the formats of package loader
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: rag <command> [flags] [arguments]

commands:
  extract FILE...    print the text and metadata the loaders extract (--json for JSON lines)
  ingest DIR         sync a directory into the store (default ./.rag)
  search QUERY       search the store
  ask QUESTION       answer from the store with an OpenAI-compatible chat model
  serve              serve the store over HTTP (ingest, search, answers as Server-Sent Events)
  eval               evaluate retrieval on a BEIR dataset

Run rag <command> -h for a command's flags.
`

// exitError carries an exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage: bad arguments; the usage was printed.
var errUsage = errors.New("usage")

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "extract":
		err = extract(ctx, rest, stdout, stderr)
	case "ingest":
		err = ingest(ctx, rest, stdout, stderr)
	case "search":
		err = search(ctx, rest, stdout, stderr)
	case "ask":
		err = ask(ctx, rest, stdout, stderr)
	case "serve":
		err = serve(ctx, rest, stdout, stderr)
	case "eval":
		err = evalcmd.Run(ctx, "rag eval", rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rag: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, "rag:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "rag:", err)
	return 1
}

// parse parses args with fs, flags and positional arguments in any order
// ("rag ingest ./docs --store x"), and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// newFlags returns a flag set for a command that writes its errors and
// help to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rag "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: rag %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}
