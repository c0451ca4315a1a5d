# A private PostgreSQL 15 server for tests/pcaps/make-pgsql.sh and
# bench/pgsql.sh (sourced; needs root to run it as the `postgres` system
# user the Debian package creates, or as $PG_USER).
#   pg_start PORT [ssl]   initdb into a temporary directory (scram-sha-256
#                         over TCP for user xdp, password "xdp"; trust on the
#                         Unix socket and for TCP user raw), start it on 127.0.0.1:PORT with the
#                         socket in that directory; "ssl" turns TLS on with a
#                         fresh self-signed certificate. Sets PG_DIR.
#   pg_sock SQL...        psql over the Unix socket (not captured: tcpdump
#                         watches TCP on lo), database xdp
#   pg_stop               stop the server, remove its directory
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-postgres}
PG_DIR=
PG_PORT=

pg_as() {
	runuser -u "$PG_USER" -- "$@"
}

pg_start() {
	local port=$1 ssl=${2:-}
	PG_PORT=$port
	PG_DIR=$(mktemp -d /tmp/xdpbeat-pgsql.XXXXXX)
	chown "$PG_USER" "$PG_DIR"
	printf 'xdp\n' >"$PG_DIR/pw"
	chown "$PG_USER" "$PG_DIR/pw"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U xdp --pwfile="$PG_DIR/pw" \
		--auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	# user raw (tests/pcaps/pgsql-client.py raw) logs in without a password
	sed -i '1i host all raw 127.0.0.1/32 trust' "$PG_DIR/data/pg_hba.conf"
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_DIR'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
fsync = off
synchronous_commit = off
logging_collector = off
EOF
	if [ "$ssl" = ssl ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
			-keyout "$PG_DIR/data/server.key" -out "$PG_DIR/data/server.crt" 2>/dev/null
		chown "$PG_USER" "$PG_DIR/data/server.key" "$PG_DIR/data/server.crt"
		chmod 600 "$PG_DIR/data/server.key"
		printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" \
			>>"$PG_DIR/data/postgresql.conf"
	else
		printf 'ssl = off\n' >>"$PG_DIR/data/postgresql.conf"
	fi
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null || {
		cat "$PG_DIR/server.log" >&2
		return 1
	}
	pg_as psql -h "$PG_DIR" -p "$port" -U xdp -d postgres -qAt -c "CREATE DATABASE xdp" >/dev/null
	pg_sock "CREATE EXTENSION pg_stat_statements; CREATE ROLE raw LOGIN; GRANT ALL ON SCHEMA public TO raw" >/dev/null
}

pg_sock() {
	pg_as psql -h "$PG_DIR" -p "$PG_PORT" -U xdp -d xdp -qAt -v ON_ERROR_STOP=1 -c "$*"
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_DIR"
	PG_DIR=
}
