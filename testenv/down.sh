#!/usr/bin/env bash
# Stops the test services that testenv/up.sh started from $SLUICE_TESTENV_DIR
# (default: this checkout's own, see testenv/dir.sh), found by their pid files,
# and waits until they have exited. Succeeds when nothing is running.
#
#   testenv/down.sh                # stop all
#   testenv/down.sh kafka es       # stop some
#   testenv/down.sh --purge        # stop all and delete the directory (data and logs)
set -euo pipefail
# shellcheck source=testenv/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=false
services=()
for a in "$@"; do
	case "$a" in
	--purge) purge=true ;;
	-h | --help)
		sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 0
		;;
	*)
		valid_service "$a" || die "unknown service '$a' (known: ${ALL_SERVICES[*]})"
		services+=("$a")
		;;
	esac
done
((${#services[@]})) || services=("${ALL_SERVICES[@]}")
if $purge && ((${#services[@]} != ${#ALL_SERVICES[@]})); then
	die "--purge deletes the whole directory; use it without service names"
fi

if [[ ! -d "$TESTENV_DIR" ]]; then
	log "nothing to stop: $TESTENV_DIR does not exist"
	exit 0
fi
[[ "$(id -u)" == 0 ]] || die "run as root"

exec 9>"$TESTENV_DIR/.lock"
flock -w 600 9 || die "another testenv/up.sh or down.sh holds $TESTENV_DIR/.lock"

# wait_gone PID SECONDS: waits for PID to exit; false if it is still there.
wait_gone() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null
}

# stop_pid SVC PID: SIGTERM, then SIGKILL if it has not exited within 60s.
stop_pid() {
	local svc=$1 pid=$2
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" 60; then
		log "$svc: pid $pid ignored SIGTERM for 60s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || die "$svc: pid $pid does not exit"
	fi
}

stop_svc() {
	local svc=$1 pid bindir
	if ! pid="$(svc_pid "$svc")"; then
		log "$svc: not running"
		return 0
	fi
	log "$svc: stopping pid $pid"
	case "$svc" in
	pg)
		# Fast shutdown: rolls back open transactions and closes replication connections.
		if bindir="$(pg_bindir)"; then
			(cd "$TESTENV_DIR/pg" && runuser -u "$PG_USER" -- "$bindir/pg_ctl" -D "$TESTENV_DIR/pg/data" \
				-m fast -w -t 60 stop) </dev/null >/dev/null 2>&1 9>&- || true
		fi
		svc_pid pg >/dev/null && stop_pid pg "$pid"
		;;
	*) stop_pid "$svc" "$pid" ;;
	esac
	rm -f "$TESTENV_DIR/exports/$svc"
	log "$svc: stopped"
}

# Side by side; each waits for its own process.
pids=()
for s in "${services[@]}"; do
	stop_svc "$s" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
write_env_sh
((rc == 0)) || die "some services did not stop"

if $purge; then
	case "$TESTENV_DIR" in
	/ | /tmp | /root | /home | "$HOME") die "refusing to delete $TESTENV_DIR" ;;
	esac
	[[ -e "$TESTENV_DIR/.sluice-testenv" ]] || die "refusing to delete $TESTENV_DIR: it has no .sluice-testenv marker"
	log "deleting $TESTENV_DIR"
	rm -rf "$TESTENV_DIR"
fi
