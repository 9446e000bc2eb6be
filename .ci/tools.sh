#!/usr/bin/env bash
# Installs the external extractors the loader fidelity tests compare
# against: pandoc (HTML, Markdown, DOCX, EPUB, ODT) and poppler-utils'
# pdftotext (PDF). On CI (CI=true) a missing tool is installed with apt;
# elsewhere the script only says what is missing, and the tests that need
# it skip with a reason.
set -euo pipefail

missing=()
command -v pandoc >/dev/null 2>&1 || missing+=(pandoc)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)

if [ ${#missing[@]} -eq 0 ]; then
  echo "tools.sh: pandoc and pdftotext are installed"
  exit 0
fi

if [ "${CI:-}" != "true" ]; then
  echo "tools.sh: not installed: ${missing[*]} (the fidelity tests that need them skip; CI=true installs them)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "tools.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
command -v pandoc >/dev/null && command -v pdftotext >/dev/null
