#!/usr/bin/env bash
# make demo: a throwaway Postgres, sluice in its embedded mode (Kafka broker
# and Schema Registry inside the process), a Postgres source and an SSE sink
# registered through the REST API from the files beside this script, a few
# rows written, and the live stream shown as a client sees it.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=examples/demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

say "starting a throwaway Postgres (testenv)"
bash testenv/install.sh >&2
# An Elasticsearch already started by testenv joins the demo.
es_url=$( (. "$(bash testenv/dir.sh)/env.sh" 2>/dev/null; echo "${SLUICE_TEST_ES_URL:-}") )
eval "$(bash testenv/up.sh pg)"
go build -trimpath -o bin/sluice ./cmd/sluice

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

work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rest=127.0.0.1:$(free_port) sse=127.0.0.1:$(free_port)
cat > "$work/sluice.json" <<JSON
{"state.dir": "$work/state", "rest": {"listen": "$rest"}, "sse": {"listen": "$sse"},
 "kafka": {"embedded": {"listen": "127.0.0.1:$(free_port)"}}, "registry": {"listen": "127.0.0.1:$(free_port)"},
 "log": {"format": "text", "level": "warn"}, "shutdown.timeout.ms": 10000}
JSON

say "running sluice in embedded mode (REST on $rest, SSE on $sse)"
bin/sluice run --config "$work/sluice.json" 2> "$work/sluice.log" &
sluice_pid=$!
cleanup() {
  kill "$stream_pid" 2>/dev/null || true
  kill -TERM "$sluice_pid" 2>/dev/null && wait "$sluice_pid" 2>/dev/null || true
  psql -q "$pg" -c "DROP DATABASE IF EXISTS sluice_demo WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
stream_pid=
trap cleanup EXIT
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
  curl -s -X DELETE "$DEMO_ES_URL/shop.public.orders" >/dev/null
fi
say "done; stopping sluice (SIGTERM drains and confirms)"
