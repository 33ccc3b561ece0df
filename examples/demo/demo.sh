#!/usr/bin/env bash
# make demo: a throwaway Postgres, sluice in its embedded mode (Kafka broker
# and Schema Registry inside the process), a Postgres source and an SSE sink
# registered through the REST API from the files beside this script, a few
# rows written, and the live stream shown as a client sees it. Then, on a
# terminal, sluice keeps running for you to try until Ctrl-C; otherwise the
# demo stops what it started at once. Either way it stops sluice and drops
# its database; the Postgres of testenv keeps running (make testenv-down).
#
# Environment: SLUICE_TEST_PG_URL, when set, is the Postgres to use instead
# of testenv's (a superuser's URL, as testenv/up.sh exports it); SLUICE_BIN
# is a sluice binary to run instead of building bin/sluice.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=examples/demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

testenv_dir=$(bash testenv/dir.sh)
# An Elasticsearch already started by testenv joins the demo.
es_url=$( (. "$testenv_dir/env.sh" 2>/dev/null; echo "${SLUICE_TEST_ES_URL:-}") )
work=$(mktemp -d)
pg_was_running=true
if [ -n "${SLUICE_TEST_PG_URL:-}" ]; then
  say "using the Postgres of SLUICE_TEST_PG_URL"
else
  if [ -z "$( (. "$testenv_dir/env.sh" 2>/dev/null; echo "${SLUICE_TEST_PG_URL:-}") )" ]; then
    pg_was_running=false
    say "starting a throwaway Postgres (testenv; the first run installs the test services' packages, which takes a few minutes)"
  else
    say "using the Postgres of testenv, already running"
  fi
  # up.sh installs what is missing, then starts Postgres; its log is shown only on failure.
  if ! up=$(bash testenv/up.sh pg 2>"$work/testenv.log"); then
    cat "$work/testenv.log" >&2
    exit 1
  fi
  eval "$up"
fi
sluice=${SLUICE_BIN:-bin/sluice}
[ -n "${SLUICE_BIN:-}" ] || go build -trimpath -o bin/sluice ./cmd/sluice

# The connector files read the database's address from the environment.
pg="$SLUICE_TEST_PG_URL"
hostport=${pg#*@}; hostport=${hostport%%/*}
userpass=${pg#postgres://}; userpass=${userpass%%@*}
export DEMO_PG_HOST=${hostport%:*} DEMO_PG_PORT=${hostport#*:} DEMO_PG_USER=${userpass%%:*} DEMO_PG_PASSWORD=${userpass#*:}
demo_url=${pg%/*}/sluice_demo?sslmode=disable
psql -q "$pg" -c "DROP DATABASE IF EXISTS sluice_demo WITH (FORCE)" -c "CREATE DATABASE sluice_demo"
psql -q "$demo_url" -c "CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, amount numeric(10,2))" \
  -c "INSERT INTO orders VALUES (1, 'teapot', 24.50), (2, 'kettle', 39.00)"

connectors="postgres sse"
if [ -n "$es_url" ] && curl -sf "$es_url/_cluster/health" >/dev/null; then
  export DEMO_ES_URL=$es_url # read by the daemon, for elasticsearch.json
  connectors="$connectors elasticsearch"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rest=127.0.0.1:$(free_port) sse=127.0.0.1:$(free_port)
cat > "$work/sluice.json" <<JSON
{"state.dir": "$work/state", "rest": {"listen": "$rest"}, "sse": {"listen": "$sse"},
 "kafka": {"embedded": {"listen": "127.0.0.1:$(free_port)"}}, "registry": {"listen": "127.0.0.1:$(free_port)"},
 "log": {"format": "text", "level": "warn"}, "shutdown.timeout.ms": 10000}
JSON

say "running sluice in embedded mode (REST on $rest, SSE on $sse)"
# In a session of its own, so that Ctrl-C reaches only this script, which
# then stops sluice with one SIGTERM: it drains and drops its slot.
setsid "$sluice" run --config "$work/sluice.json" 2> "$work/sluice.log" &
sluice_pid=$!
cleanup() {
  kill "$stream_pid" 2>/dev/null || true
  say "stopping sluice (SIGTERM drains and drops the demo's slot) and dropping the demo database"
  kill -TERM "$sluice_pid" 2>/dev/null && wait "$sluice_pid" 2>/dev/null || true
  psql -q "$pg" -c "DROP DATABASE IF EXISTS sluice_demo WITH (FORCE)" 2>/dev/null || true
  [ -z "${DEMO_ES_URL:-}" ] || curl -s -X DELETE "$DEMO_ES_URL/shop.public.orders" >/dev/null || true
  rm -rf "$work"
  if $pg_was_running; then
    echo "Postgres was running before the demo and keeps running." >&2
  else
    echo "Postgres (testenv), started for the demo, keeps running for the next one: 'make testenv-down' stops it." >&2
  fi
}
stream_pid=
trap cleanup EXIT
trap 'exit 130' INT TERM
until curl -sf "http://$rest/readyz" >/dev/null; do sleep 0.2; done

say "registering the connectors through the REST API"
for f in $connectors; do
  curl -sS -X POST "http://$rest/connectors" -H 'Content-Type: application/json' -d @"$here/$f.json"; echo
done
until curl -s "http://$rest/connectors/shop/status" | grep -q '"state":"RUNNING"'; do sleep 0.2; done

# The stream is served once its topic exists, that is after the snapshot.
until curl -s --max-time 0.5 -o /dev/null "http://$sse/streams/orders-stream"; [ $? -ne 7 ]; do sleep 0.2; done
say "the live stream: curl -N http://$sse/streams/orders-stream?from=earliest"
curl -sN "http://$sse/streams/orders-stream?from=earliest" &
stream_pid=$!
sleep 2
say "writing rows"
psql -q "$demo_url" -c "INSERT INTO orders VALUES (3, 'mug', 7.25)"
sleep 1
psql -q "$demo_url" -c "UPDATE orders SET amount = 22.00 WHERE id = 1"
sleep 1
psql -q "$demo_url" -c "DELETE FROM orders WHERE id = 2"
sleep 2

say "status"
curl -s "http://$rest/connectors?expand=status"; echo
if [ -n "${DEMO_ES_URL:-}" ]; then
  say "the Elasticsearch index shop.public.orders"
  curl -s -X POST "$DEMO_ES_URL/shop.public.orders/_refresh" >/dev/null
  curl -s "$DEMO_ES_URL/shop.public.orders/_search?sort=id&filter_path=hits.hits._id,hits.hits._source"; echo
fi
if [ ! -t 0 ] || [ ! -t 1 ]; then
  exit 0 # not on a terminal: nobody to try it
fi
say "sluice is running, the stream above stays live; try, in another terminal:"
cat >&2 <<EOF
  psql '$demo_url' -c "INSERT INTO orders VALUES (4, 'spoon', 3.10)"   # a change; watch it arrive above
  curl -s http://$rest/connectors/shop/status                          # the source's status (REST API)
  curl -N 'http://$sse/streams/orders-stream?from=earliest'            # the whole stream from its start
Ctrl-C stops sluice and drops the demo database.
EOF
wait "$sluice_pid" || true
say "sluice stopped on its own; its log:"
cat "$work/sluice.log" >&2
exit 1
