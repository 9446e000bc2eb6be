#!/usr/bin/env bash
# Starts a test-only PostgreSQL (Debian's postgresql package, no extensions)
# for the River queue tests (package queue, bench/queue) and prints its DSN
# (also written to .ci/postgres/dsn):
#
#   export RAG_RIVER_DSN="$(bash .ci/postgres-start.sh)"
#   go test -race ./queue/...
#   bash .ci/postgres-stop.sh
#
# The server runs initdb and pg_ctl as an unprivileged user (postgres must
# not run as root: when run by root, the script uses the system user
# rag-pgtest, created if missing), on a data directory under a temporary
# directory, listening only on 127.0.0.1 at a free port (PG_PORT to choose
# one), with trust authentication for that user on loopback. Nothing is
# durable: fsync is off, which is fine for tests and nothing else.
#
# When CI=true and the binaries are missing, it installs the postgresql
# package with apt-get. Running it again while the server is up just prints
# the DSN.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres"
mkdir -p "$dir"
log() { echo "postgres-start: $*" >&2; }

if [[ -f "$dir/dsn" && -f "$dir/datadir" ]] && [[ -f "$(cat "$dir/datadir")/postmaster.pid" ]] &&
	kill -0 "$(head -1 "$(cat "$dir/datadir")/postmaster.pid")" 2>/dev/null; then
	log "already running"
	cat "$dir/dsn"
	exit 0
fi
rm -f "$dir/dsn" "$dir/datadir"

find_bin() {
	local d
	for d in ${PG_BINDIR:-} /usr/lib/postgresql/*/bin; do
		if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}
bindir="$(find_bin || true)"
if [[ -z "$bindir" && "${CI:-}" == "true" ]]; then
	log "installing postgresql (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
	bindir="$(find_bin || true)"
fi
[[ -n "$bindir" ]] || { log "no PostgreSQL binaries (initdb, pg_ctl) found; install the postgresql package"; exit 1; }

# Who runs the server: ourselves, unless we are root.
run_as=()
user="$(id -un)"
if [[ "$(id -u)" == 0 ]]; then
	user=rag-pgtest
	if ! id "$user" >/dev/null 2>&1; then
		log "creating system user $user"
		useradd --system --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null ||
			adduser --system --no-create-home --group "$user" >&2
	fi
	if command -v runuser >/dev/null; then
		run_as=(runuser -u "$user" --)
	else
		run_as=(su -s /bin/sh "$user" -c)
	fi
fi
as_user() {
	if [[ ${#run_as[@]} -eq 0 ]]; then
		"$@"
	elif [[ "${run_as[0]}" == runuser ]]; then
		"${run_as[@]}" "$@"
	else
		"${run_as[@]}" "$(printf '%q ' "$@")"
	fi
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/rag-pgtest.XXXXXX")"
chmod 755 "$tmp"
data="$tmp/data"
mkdir -p "$data" "$tmp/sock"
[[ "$(id -u)" == 0 ]] && chown -R "$user" "$tmp"
as_user "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	as_user "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
	{ log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }

port="${PG_PORT:-}"
if [[ -z "$port" ]]; then
	# A free loopback port: ask the kernel for one.
	port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || true)"
	if [[ -z "$port" ]]; then
		for p in $(shuf -i 20000-40000 -n 50); do
			if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
		done
	fi
fi
[[ -n "$port" ]] || { log "no free port found"; exit 1; }

opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$tmp/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB"
as_user "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -o "$opts" -w -t 60 start >&2 ||
	{ log "pg_ctl start failed:"; cat "$tmp/server.log" >&2; exit 1; }

echo "$data" >"$dir/datadir"
echo "$bindir" >"$dir/bindir"
echo "$tmp" >"$dir/tmpdir"
echo "$user" >"$dir/user"
dsn="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"
echo "$dsn" >"$dir/dsn"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') listening on 127.0.0.1:${port} (data $data, user $user)"
echo "$dsn"
