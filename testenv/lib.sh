# shellcheck shell=bash disable=SC2034 # the settings below are used by the scripts that source this
# Shared helpers for testenv/install.sh, up.sh and down.sh. Sourced, not run.

TESTENV_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TESTENV_SRC/.." && pwd)"

# Where running services keep their data, logs, pid files and env.sh: one
# directory per checkout by default, named after a hash of its path, so that
# two checkouts never reuse or stop each other's services.
TESTENV_DIR="${SLUICE_TESTENV_DIR:-/tmp/sluice-testenv-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)}"
case "$TESTENV_DIR" in /*) ;; *) TESTENV_DIR="$PWD/$TESTENV_DIR" ;; esac

# Where install.sh records what it resolved (Kafka classpath, Elasticsearch version).
TESTENV_CACHE="${SLUICE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-testenv}"
# The local Maven repository that holds the Kafka jars and the Elasticsearch zip.
M2_REPO="${SLUICE_M2_REPO:-$HOME/.m2/repository}"

# OS users that run the services (PostgreSQL and Elasticsearch refuse to run as root).
PG_USER="${SLUICE_TESTENV_PG_USER:-postgres}"
MYSQL_USER="${SLUICE_TESTENV_MYSQL_USER:-mysql}"
ES_USER="${SLUICE_TESTENV_ES_USER:-sluicees}"

# How long to wait for one service to become ready, in seconds.
TESTENV_TIMEOUT="${SLUICE_TESTENV_TIMEOUT:-180}"

ALL_SERVICES=(pg mysql kafka es)

log() { printf '%s testenv: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# valid_service NAME: is NAME one of pg, mysql, kafka, es?
valid_service() {
	local s
	for s in "${ALL_SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done
	return 1
}

# pid_from_dir PIDFILE MARKER: prints the pid in PIDFILE if that process is alive
# and its command line contains MARKER (a path inside the testenv dir), so a
# recycled pid is never mistaken for one of ours.
pid_from_dir() {
	local pidfile=$1 marker=$2 pid
	[[ -r "$pidfile" ]] || return 1
	pid="$(head -n1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
	[[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
	printf '%s\n' "$pid"
}

# port_in_use PORT: does anything accept connections on 127.0.0.1:PORT?
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port FILE [TAKEN...]: reuses the port recorded in FILE when it is free,
# otherwise picks a random free port in 20000-31999 (below Linux's ephemeral
# range, so outgoing connections do not grab it), records it in FILE and prints it.
pick_port() {
	local file=$1 p i
	shift
	if [[ -r "$file" ]]; then
		p="$(tr -dc '0-9' <"$file")"
		if [[ -n "$p" ]] && ((p >= 1024 && p <= 65535)) && ! port_in_use "$p" && ! in_list "$p" "$@"; then
			printf '%s\n' "$p"
			return 0
		fi
	fi
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if ! port_in_use "$p" && ! in_list "$p" "$@"; then
			printf '%s\n' "$p" >"$file"
			printf '%s\n' "$p"
			return 0
		fi
	done
	die "no free port found on 127.0.0.1"
}

in_list() {
	local x=$1
	shift
	local y
	for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done
	return 1
}

# ensure_user NAME: creates a system user without login if it does not exist.
ensure_user() {
	id -u "$1" >/dev/null 2>&1 && return 0
	log "creating system user $1"
	useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
}

# pg_bindir: the newest installed PostgreSQL server bin directory.
pg_bindir() {
	local d
	d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
	[[ -n "$d" && -x "$d/initdb" ]] || return 1
	printf '%s\n' "$d"
}

# java_home: the JDK used for Kafka and Elasticsearch: SLUICE_TESTENV_JAVA_HOME,
# else Debian's OpenJDK 17 (which both Kafka 4 and Elasticsearch 8 support),
# else the one `java` on PATH belongs to.
java_home() {
	if [[ -n "${SLUICE_TESTENV_JAVA_HOME:-}" ]]; then
		printf '%s\n' "$SLUICE_TESTENV_JAVA_HOME"
		return 0
	fi
	local j
	j="/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture 2>/dev/null)"
	if [[ -x "$j/bin/java" ]]; then
		printf '%s\n' "$j"
		return 0
	fi
	j="$(command -v java)" || return 1
	j="$(readlink -f "$j")"
	printf '%s\n' "${j%/bin/java}"
}

# tail_log FILE: shows the end of a log on stderr, for error messages.
tail_log() {
	[[ -r "$1" ]] || return 0
	log "last lines of $1:"
	tail -n 25 "$1" | sed 's/^/    /' >&2
}

# svc_pid SVC: prints the pid of SVC (pg, mysql, kafka or es) if it is running
# from TESTENV_DIR.
svc_pid() {
	case "$1" in
	pg) pid_from_dir "$TESTENV_DIR/pg/data/postmaster.pid" "$TESTENV_DIR/pg/data" ;;
	mysql) pid_from_dir "$TESTENV_DIR/mysql/mariadbd.pid" "$TESTENV_DIR/mysql/data" ;;
	kafka) pid_from_dir "$TESTENV_DIR/kafka/kafka.pid" "$TESTENV_DIR/kafka/server.properties" ;;
	es) pid_from_dir "$TESTENV_DIR/es/es.pid" "$TESTENV_DIR/es/home" ;;
	*) return 1 ;;
	esac
}

# write_env_sh: rewrites TESTENV_DIR/env.sh with the export lines of the
# services that are running now; removes it when none is.
write_env_sh() {
	local s lines=""
	for s in "${ALL_SERVICES[@]}"; do
		if svc_pid "$s" >/dev/null && [[ -s "$TESTENV_DIR/exports/$s" ]]; then
			lines+="$(cat "$TESTENV_DIR/exports/$s")"$'\n'
		fi
	done
	if [[ -n "$lines" ]]; then
		printf '# Test services running from %s; written by testenv/up.sh.\n%s' "$TESTENV_DIR" "$lines" >"$TESTENV_DIR/env.sh.tmp"
		mv "$TESTENV_DIR/env.sh.tmp" "$TESTENV_DIR/env.sh"
	else
		rm -f "$TESTENV_DIR/env.sh"
	fi
}

# close_fds: closes every file descriptor above 2 of the current subshell, so
# that a daemon started from it holds no lock or pipe of whoever ran up.sh.
close_fds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
	done
}
