#!/usr/bin/env bash
# Starts a test-only Postgres with pgvector for the store/pgvector tests and
# prints its DSN (also written to .ci/pglite/dsn):
#
#   export RAG_PG_DSN="$(bash .ci/pg-start.sh)"
#   go test -race ./store/pgvector/
#   bash .ci/pg-stop.sh
#
# The server is PGlite (Postgres 18 compiled to WebAssembly, run by Node.js)
# with the pgvector extension, served over the Postgres wire protocol on
# 127.0.0.1 by @electric-sql/pglite-socket; the npm packages are pinned in
# .ci/pglite/package-lock.json and installed with `npm ci`. Debian 12's
# PostgreSQL has no pgvector package, so PGlite is the fallback-free choice.
#
# PGlite is one backend: pglite-socket multiplexes connections onto it, so
# the DSN asks pgx for a single pooled connection (pool_max_conns=1) and the
# exec query mode (no named prepared statements). Never use COPY against it.
#
# Environment: PGLITE_MAX_CONNECTIONS (server side, default 4).
# Running it again while the server is up just prints the DSN.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pglite"
cd "$dir"
log() { echo "pg-start: $*" >&2; }

if [[ -f server.pid && -f dsn ]] && kill -0 "$(cat server.pid)" 2>/dev/null; then
	log "already running (pid $(cat server.pid))"
	cat dsn
	exit 0
fi
rm -f dsn server.pid

command -v node >/dev/null || { log "node is not installed"; exit 1; }
if [[ ! -d node_modules/@electric-sql/pglite-socket || package-lock.json -nt node_modules/.package-lock.json ]]; then
	log "installing PGlite packages (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error >&2
fi

: >server.log
nohup node server.mjs 0 "${PGLITE_MAX_CONNECTIONS:-4}" >server.log 2>&1 </dev/null &
pid=$!
echo "$pid" >server.pid

# Wait (bounded) until the server prints READY <port> and accepts a TCP connection.
port=""
for _ in $(seq 1 600); do
	if ! kill -0 "$pid" 2>/dev/null; then
		log "server exited during startup:"
		cat server.log >&2
		rm -f server.pid
		exit 1
	fi
	port="$(awk '/^READY /{print $2; exit}' server.log)"
	if [[ -n "$port" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	port=""
	sleep 0.1
done
if [[ -z "$port" ]]; then
	log "server did not accept connections within 60 s:"
	cat server.log >&2
	kill "$pid" 2>/dev/null || true
	rm -f server.pid
	exit 1
fi

dsn="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable&default_query_exec_mode=exec&pool_max_conns=1"
echo "$dsn" >dsn
log "PGlite with pgvector listening on 127.0.0.1:${port} (pid ${pid})"
echo "$dsn"
