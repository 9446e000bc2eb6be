#!/usr/bin/env bash
# Stops the PostgreSQL that postgres-start.sh started and removes its
# temporary directory.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres"
[[ -f "$dir/datadir" ]] || { echo "postgres-stop: not running" >&2; exit 0; }
data="$(cat "$dir/datadir")"
bindir="$(cat "$dir/bindir")"
tmp="$(cat "$dir/tmpdir")"
if [[ "$(id -u)" == 0 ]]; then
	runuser -u rag-pgtest -- "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2 || true
else
	"$bindir/pg_ctl" -D "$data" -m fast -w stop >&2 || true
fi
case "$tmp" in
*/rag-pgtest.*) rm -rf "$tmp" ;;
esac
rm -f "$dir/dsn" "$dir/datadir" "$dir/bindir" "$dir/tmpdir"
echo "postgres-stop: stopped" >&2
