#!/usr/bin/env bash
# Stops the PostgreSQL that postgres-start.sh started and removes its
# temporary directory.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres"
[[ -f "$dir/datadir" ]] || { echo "postgres-stop: not running" >&2; exit 0; }
data="$(cat "$dir/datadir")"
bindir="$(cat "$dir/bindir")"
tmp="$(cat "$dir/tmpdir")"
user="$(cat "$dir/user" 2>/dev/null || id -un)"
if [[ "$(id -u)" == 0 && "$user" != root ]]; then
	runuser -u "$user" -- "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2 || true
else
	"$bindir/pg_ctl" -D "$data" -m fast -w stop >&2 || true
fi
case "$tmp" in
*/rag-pgtest.*) rm -rf "$tmp" ;;
esac
rm -f "$dir/dsn" "$dir/datadir" "$dir/bindir" "$dir/tmpdir" "$dir/user"
echo "postgres-stop: stopped" >&2
