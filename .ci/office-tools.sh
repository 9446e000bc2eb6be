#!/usr/bin/env bash
# Installs what the Office and EPUB loaders' fidelity tests need: pandoc
# (Debian's package), which writes the DOCX, ODT, EPUB and PPTX files and
# the plain-text reference they are compared with. With CI=true the tests
# fail without it (loader/internal/fidelity.Tool).
set -euo pipefail
if command -v pandoc >/dev/null 2>&1; then
  echo "pandoc present: $(pandoc --version | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends pandoc >/dev/null
echo "pandoc installed: $(pandoc --version | head -1)"
