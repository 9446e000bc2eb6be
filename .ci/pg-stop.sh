#!/usr/bin/env bash
# Stops the test Postgres started by .ci/pg-start.sh (by its recorded pid).
set -uo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pglite"
cd "$dir" || exit 0
if [[ -f server.pid ]]; then
	pid="$(cat server.pid)"
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
fi
rm -f server.pid dsn
