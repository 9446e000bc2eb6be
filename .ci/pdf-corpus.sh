#!/usr/bin/env bash
# Prints the directory of real PDFs that loader/pdf's fidelity test and
# bench/pdf read: the test files that ship in pdfcpu's Go module (written
# by many producers, none of them us). Downloads the module into the Go
# module cache first if it is not there. Use:
#   export RAG_PDF_CORPUS="$(bash .ci/pdf-corpus.sh)"
set -euo pipefail
version=v0.15.0
dir=$(go mod download -json "github.com/pdfcpu/pdfcpu@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir/pkg/testdata" ]; then
  echo "pdf-corpus.sh: github.com/pdfcpu/pdfcpu@$version has no pkg/testdata" >&2
  exit 1
fi
echo "$dir/pkg/testdata"
