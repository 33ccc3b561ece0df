#!/usr/bin/env bash
# Starts the services that sluice's integration tests run against, each on a
# free port of 127.0.0.1, with data and logs under one directory:
#
#   eval "$(testenv/up.sh)"            # all four: pg mysql kafka es
#   eval "$(testenv/up.sh pg kafka)"   # only some
#
# The directory is $SLUICE_TESTENV_DIR, else one per checkout (testenv/dir.sh
# prints it). A service already running from it is reused. When every service
# is ready, stdout gets only `export NAME='value'` lines (everything else goes
# to stderr), and $SLUICE_TESTENV_DIR/env.sh gets the lines of every service
# running from the directory:
#
#   SLUICE_TEST_PG_URL          PostgreSQL, wal_level=logical, role sluice (superuser, replication)
#   SLUICE_TEST_MYSQL_DSN       MariaDB, ROW binlog with full image and metadata, GTIDs, user sluice
#   SLUICE_TEST_KAFKA_BROKERS   Kafka in KRaft mode, one broker+controller
#   SLUICE_TEST_KAFKA_SASL_SSL_BROKERS  the same broker's SASL_SSL listener (SCRAM-SHA-512,
#                               a certificate made at start), with
#   SLUICE_TEST_KAFKA_SASL_USER, SLUICE_TEST_KAFKA_SASL_PASSWORD  its SCRAM user, and
#   SLUICE_TEST_KAFKA_CA_FILE   the PEM file of the CA that signed the broker's certificate
#   SLUICE_TEST_ES_URL          Elasticsearch, single node, no security
#
# Environment: SLUICE_TESTENV_DIR (default /tmp/sluice-testenv-HASH, HASH naming
# this checkout's path), SLUICE_TESTENV_TIMEOUT
# (seconds to wait for each service, default 180). testenv/down.sh stops them.
set -euo pipefail
# shellcheck source=testenv/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root (services run as their own system users, started with runuser)"

services=("$@")
((${#services[@]})) || services=("${ALL_SERVICES[@]}")
for s in "${services[@]}"; do
	valid_service "$s" || die "unknown service '$s' (known: ${ALL_SERVICES[*]})"
done

# Cheap when everything is installed; installs what is missing otherwise.
bash "$TESTENV_SRC/install.sh" >/dev/null

mkdir -p "$TESTENV_DIR"
chmod 755 "$TESTENV_DIR"
touch "$TESTENV_DIR/.sluice-testenv"
if [[ -r "$TESTENV_DIR/checkout" && "$(cat "$TESTENV_DIR/checkout")" != "$REPO_ROOT" ]]; then
	log "note: $TESTENV_DIR was last used by the checkout at $(cat "$TESTENV_DIR/checkout"); its running services are shared"
fi
printf '%s\n' "$REPO_ROOT" >"$TESTENV_DIR/checkout"
for u in "$PG_USER" "$MYSQL_USER" "$ES_USER"; do
	runuser -u "$u" -- test -x "$TESTENV_DIR" ||
		die "user $u cannot enter $TESTENV_DIR: choose a SLUICE_TESTENV_DIR whose parents are world-searchable"
done

# One up.sh or down.sh at a time per directory. Services close every inherited
# descriptor (close_fds) before they start, so the lock ends with this script.
exec 9>"$TESTENV_DIR/.lock"
flock -w 600 9 || die "another testenv/up.sh or down.sh holds $TESTENV_DIR/.lock"

JAVA_HOME_DIR="$(java_home)" || die "no java on PATH (run testenv/install.sh)"

# ---------------------------------------------------------------------------
# PostgreSQL

PG_DIR="$TESTENV_DIR/pg"

pg_psql_admin() {
	runuser -u "$PG_USER" -- "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$1" -U postgres -d postgres
}

ensure_pg() {
	local port=${1:-} data="$PG_DIR/data" pid
	PG_BIN="$(pg_bindir)" || die "pg: no initdb found (run testenv/install.sh)"
	if pid="$(svc_pid pg)"; then
		port="$(sed -n 4p "$data/postmaster.pid")"
		log "pg: already running (pid $pid, port $port)"
	else
		if [[ ! -f "$PG_DIR/.initialized" ]]; then
			log "pg: creating cluster in $data"
			rm -rf "$data"
			chown "$PG_USER:" "$PG_DIR"
			(cd "$PG_DIR" && runuser -u "$PG_USER" -- "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C \
				--auth-local=trust --auth-host=scram-sha-256) </dev/null >"$PG_DIR/initdb.log" 2>&1 9>&- ||
				{
					tail_log "$PG_DIR/initdb.log"
					die "pg: initdb failed"
				}
			cat >>"$data/postgresql.conf" <<-EOF

				# sluice testenv
				listen_addresses = '127.0.0.1'
				unix_socket_directories = '$PG_DIR'
				wal_level = logical
				max_replication_slots = 20
				max_wal_senders = 20
				max_connections = 200
				password_encryption = scram-sha-256
				# Test data only: durability traded for speed.
				fsync = off
				synchronous_commit = off
				full_page_writes = off
			EOF
			cat >"$data/pg_hba.conf" <<-EOF
				# sluice testenv: trust on the private unix socket, passwords over TCP.
				local   all          all                 trust
				local   replication  all                 trust
				host    all          all   127.0.0.1/32  scram-sha-256
				host    replication  all   127.0.0.1/32  scram-sha-256
			EOF
			touch "$PG_DIR/.initialized"
		fi
		log "pg: starting on 127.0.0.1:$port"
		(close_fds && cd "$PG_DIR" && runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$data" -l "$PG_DIR/postgres.log" \
			-o "-p $port" -w -t "$TESTENV_TIMEOUT" start) </dev/null >"$PG_DIR/pg_ctl.log" 2>&1 9>&- ||
			{
				tail_log "$PG_DIR/postgres.log"
				die "pg: did not start"
			}
	fi

	pg_psql_admin "$port" <<-'EOF' || die "pg: could not create role and database sluice"
		DO $$ BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice') THEN
		    CREATE ROLE sluice;
		  END IF;
		END $$;
		ALTER ROLE sluice LOGIN REPLICATION SUPERUSER PASSWORD 'sluice';
		SELECT 'CREATE DATABASE sluice OWNER sluice'
		 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sluice') \gexec
	EOF
	# Prove what the tests need: a password login and a logical replication connection over TCP.
	PGPASSWORD=sluice "$PG_BIN/psql" -X -q -tA -h 127.0.0.1 -p "$port" -U sluice -d sluice \
		-c 'SELECT 1' >/dev/null || die "pg: sluice cannot log in over TCP"
	PGPASSWORD=sluice "$PG_BIN/psql" -X -q -tA \
		"host=127.0.0.1 port=$port user=sluice dbname=sluice replication=database" \
		-c 'IDENTIFY_SYSTEM' >/dev/null || die "pg: sluice cannot open a replication connection"

	printf "export SLUICE_TEST_PG_URL='postgres://sluice:sluice@127.0.0.1:%s/sluice?sslmode=disable'\n" "$port"
}

# ---------------------------------------------------------------------------
# MariaDB

MY_DIR="$TESTENV_DIR/mysql"

ensure_mysql() {
	local port=${1:-} data="$MY_DIR/data" sock="$MY_DIR/mysqld.sock" pid mariadbd i
	if pid="$(svc_pid mysql)"; then
		port="$(cat "$MY_DIR/port")"
		log "mysql: already running (pid $pid, port $port)"
	else
		if [[ ! -f "$MY_DIR/.initialized" ]]; then
			log "mysql: creating datadir $data"
			rm -rf "$data" "$MY_DIR/tmp"
			mkdir -p "$data" "$MY_DIR/tmp"
			chown -R "$MYSQL_USER:" "$MY_DIR"
			(cd "$MY_DIR" && mariadb-install-db --no-defaults --datadir="$data" --user="$MYSQL_USER" \
				--auth-root-authentication-method=socket --skip-test-db) </dev/null >"$MY_DIR/install-db.log" 2>&1 9>&- ||
				{
					tail_log "$MY_DIR/install-db.log"
					die "mysql: mariadb-install-db failed"
				}
			touch "$MY_DIR/.initialized"
		fi
		mariadbd="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
		rm -f "$sock" "$MY_DIR/mariadbd.pid"
		log "mysql: starting on 127.0.0.1:$port"
		(close_fds && cd "$MY_DIR" && exec setsid "$mariadbd" --no-defaults \
			--user="$MYSQL_USER" --datadir="$data" --tmpdir="$MY_DIR/tmp" \
			--bind-address=127.0.0.1 --port="$port" --socket="$sock" \
			--pid-file="$MY_DIR/mariadbd.pid" --log-error="$MY_DIR/error.log" \
			--skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--server-id=1 --log-bin=mysql-bin --binlog-format=ROW \
			--binlog-row-image=FULL --binlog-row-metadata=FULL --gtid-strict-mode=ON \
			--expire-logs-days=2 --max-connections=300 \
			--innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0) \
			</dev/null >>"$MY_DIR/mariadbd.out" 2>&1 9>&- &
		pid=$!
		for ((i = 0; i < TESTENV_TIMEOUT * 5; i++)); do
			mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
			if ! kill -0 "$pid" 2>/dev/null; then
				tail_log "$MY_DIR/error.log"
				die "mysql: mariadbd exited during start"
			fi
			sleep 0.2
		done
		mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 || {
			tail_log "$MY_DIR/error.log"
			die "mysql: not ready after ${TESTENV_TIMEOUT}s"
		}
	fi

	mariadb --no-defaults --socket="$sock" -uroot <<-'EOF' || die "mysql: could not create user and database sluice"
		SET SESSION sql_log_bin = 0; -- keep set-up out of the binlog that tests read
		CREATE DATABASE IF NOT EXISTS sluice;
		CREATE USER IF NOT EXISTS 'sluice'@'%' IDENTIFIED BY 'sluice';
		CREATE USER IF NOT EXISTS 'sluice'@'localhost' IDENTIFIED BY 'sluice';
		GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'%' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'localhost' WITH GRANT OPTION;
	EOF
	# ALL PRIVILEGES includes REPLICATION SLAVE, BINLOG MONITOR and REPLICA MONITOR;
	# check the ones a binlog reader needs, over TCP as the test user.
	local grants
	grants="$(mariadb --no-defaults -h127.0.0.1 -P"$port" -usluice -psluice -N -e 'SHOW GRANTS' sluice)" ||
		die "mysql: sluice cannot log in over TCP"
	[[ "$grants" == *"ALL PRIVILEGES ON *.*"* ]] || die "mysql: unexpected grants for sluice: $grants"

	printf "export SLUICE_TEST_MYSQL_DSN='sluice:sluice@tcp(127.0.0.1:%s)/sluice'\n" "$port"
}

# ---------------------------------------------------------------------------
# Kafka

K_DIR="$TESTENV_DIR/kafka"

# The SCRAM user of the SASL_SSL listener.
K_SASL_USER=sluice
K_SASL_PASSWORD=sluice-scram-secret

# kafka_certs DIR: a CA and a broker certificate for 127.0.0.1 and localhost
# it signs, the broker's in a PKCS#12 key store (password sluice-keystore).
kafka_certs() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sluice testenv CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/broker.key" -out "$d/broker.csr" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/broker.ext" &&
		openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
			-extfile "$d/broker.ext" -out "$d/broker.pem" 2>/dev/null &&
		openssl pkcs12 -export -in "$d/broker.pem" -inkey "$d/broker.key" -name broker \
			-passout pass:sluice-keystore -out "$d/broker.p12"
}

ensure_kafka() {
	local port=${1:-} cport=${2:-} sport=${3:-} pid cp cid props="$K_DIR/server.properties"
	cp="$(cat "$TESTENV_CACHE/kafka.classpath")" || die "kafka: no classpath (run testenv/install.sh)"
	if pid="$(svc_pid kafka)"; then
		port="$(cat "$K_DIR/port")"
		sport="$(cat "$K_DIR/sasl.port" 2>/dev/null)" || sport=""
		log "kafka: already running (pid $pid, port $port${sport:+, SASL_SSL port $sport})"
	else
		mkdir -p "$K_DIR/data" "$K_DIR/logs"
		cp "$TESTENV_SRC/kafka/log4j2.properties" "$K_DIR/log4j2.properties"
		rm -f "$K_DIR/sasl.port"
		kafka_certs "$K_DIR/tls" || die "kafka: could not make the SASL_SSL listener's certificates with openssl"
		# Static quorum (controller.quorum.voters): the controller port may change between runs.
		cat >"$props" <<-EOF
			# Written by testenv/up.sh on every start.
			process.roles=broker,controller
			node.id=1
			controller.quorum.voters=1@127.0.0.1:$cport
			listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$sport
			advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport
			listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
			inter.broker.listener.name=PLAINTEXT
			sasl.enabled.mechanisms=SCRAM-SHA-512
			listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
			listener.name.sasl_ssl.ssl.keystore.type=PKCS12
			listener.name.sasl_ssl.ssl.keystore.location=$K_DIR/tls/broker.p12
			listener.name.sasl_ssl.ssl.keystore.password=sluice-keystore
			listener.name.sasl_ssl.ssl.key.password=sluice-keystore
			controller.listener.names=CONTROLLER
			log.dirs=$K_DIR/data
			num.partitions=1
			default.replication.factor=1
			min.insync.replicas=1
			auto.create.topics.enable=true
			group.initial.rebalance.delay.ms=0
			offsets.topic.replication.factor=1
			offsets.topic.num.partitions=1
			transaction.state.log.replication.factor=1
			transaction.state.log.min.isr=1
			transaction.state.log.num.partitions=1
			share.coordinator.state.topic.replication.factor=1
			share.coordinator.state.topic.min.isr=1
			num.network.threads=2
			num.io.threads=4
		EOF
		if [[ ! -f "$K_DIR/data/meta.properties" ]]; then
			# 16 random bytes in URL-safe base64, without '-' (an id starting
			# with it would read as an option to the storage tool).
			cid="$(head -c 16 /dev/urandom | base64 | tr '+/' 'x_' | tr -d '=')"
			log "kafka: formatting storage (cluster id $cid)"
			"$JAVA_HOME_DIR/bin/java" -Xmx256m -Dlog4j2.configurationFile="$K_DIR/log4j2.properties" -cp "$cp" \
				kafka.tools.StorageTool format --cluster-id "$cid" --config "$props" \
				</dev/null >"$K_DIR/format.log" 2>&1 9>&- ||
				{
					tail_log "$K_DIR/format.log"
					die "kafka: storage format failed"
				}
		fi
		log "kafka: starting on 127.0.0.1:$port (controller $cport)"
		(close_fds && cd "$K_DIR" && exec setsid "$JAVA_HOME_DIR/bin/java" -Xms256m -Xmx512m \
			-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
			-Dlog4j2.configurationFile="$K_DIR/log4j2.properties" -Dkafka.logs.dir="$K_DIR/logs" \
			-cp "$cp" kafka.Kafka "$props") </dev/null >>"$K_DIR/kafka.log" 2>&1 9>&- &
		pid=$!
		printf '%s\n' "$pid" >"$K_DIR/kafka.pid"
	fi

	if command -v go >/dev/null; then
		(cd "$REPO_ROOT" && go build -o "$TESTENV_DIR/bin/kafkaready" ./testenv/internal/kafkaready) 9>&- ||
			die "kafka: could not build testenv/internal/kafkaready"
		"$TESTENV_DIR/bin/kafkaready" -brokers "127.0.0.1:$port" -timeout "${TESTENV_TIMEOUT}s" \
			${sport:+-scram-user "$K_SASL_USER" -scram-password "$K_SASL_PASSWORD"} 9>&- || {
			tail_log "$K_DIR/kafka.log"
			die "kafka: not ready"
		}
		[[ -z "$sport" ]] || printf '%s\n' "$sport" >"$K_DIR/sasl.port"
	else
		log "kafka: no go on PATH; waiting for the broker's start-up log line instead of a metadata request"
		local i
		for ((i = 0; i < TESTENV_TIMEOUT * 5; i++)); do
			grep -q 'Kafka Server started' "$K_DIR/kafka.log" 2>/dev/null && break
			sleep 0.2
		done
		grep -q 'Kafka Server started' "$K_DIR/kafka.log" || {
			tail_log "$K_DIR/kafka.log"
			die "kafka: not ready"
		}
	fi
	svc_pid kafka >/dev/null || {
		tail_log "$K_DIR/kafka.log"
		die "kafka: the broker process is gone"
	}

	printf "export SLUICE_TEST_KAFKA_BROKERS='127.0.0.1:%s'\n" "$port"
	# The SASL_SSL listener is announced once its SCRAM user exists (kafkaready
	# makes it; a broker started by an older testenv has no such listener).
	if [[ -s "$K_DIR/sasl.port" ]]; then
		printf "export SLUICE_TEST_KAFKA_SASL_SSL_BROKERS='127.0.0.1:%s'\n" "$(cat "$K_DIR/sasl.port")"
		printf "export SLUICE_TEST_KAFKA_SASL_USER='%s'\n" "$K_SASL_USER"
		printf "export SLUICE_TEST_KAFKA_SASL_PASSWORD='%s'\n" "$K_SASL_PASSWORD"
		printf "export SLUICE_TEST_KAFKA_CA_FILE='%s'\n" "$K_DIR/tls/ca.pem"
	fi
}

# ---------------------------------------------------------------------------
# Elasticsearch

E_DIR="$TESTENV_DIR/es"

ensure_es() {
	local port=${1:-} tport=${2:-} pid ver zip home="$E_DIR/home" health i
	ver="$(cat "$TESTENV_CACHE/es.version")" || die "es: no version recorded (run testenv/install.sh)"
	if pid="$(svc_pid es)"; then
		port="$(cat "$E_DIR/port")"
		log "es: already running (pid $pid, port $port)"
	else
		mkdir -p "$E_DIR"
		if [[ "$(cat "$home/.sluice-es-version" 2>/dev/null)" != "$ver" ]]; then
			zip="$M2_REPO/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ver/elasticsearch-$ver.zip"
			[[ -s "$zip" ]] || die "es: $zip is missing (run testenv/install.sh)"
			log "es: unpacking Elasticsearch $ver"
			rm -rf "$home" "$E_DIR/data" "$E_DIR/unpack"
			mkdir -p "$E_DIR/unpack"
			unzip -q "$zip" -d "$E_DIR/unpack"
			mv "$E_DIR/unpack/elasticsearch-$ver" "$home"
			rm -rf "$E_DIR/unpack"
			printf '%s\n' "$ver" >"$home/.sluice-es-version"
		fi
		mkdir -p "$E_DIR/data" "$E_DIR/logs" "$E_DIR/tmp"
		cat >"$home/config/elasticsearch.yml" <<-EOF
			# Written by testenv/up.sh on every start.
			cluster.name: sluice-testenv
			node.name: sluice-testenv
			path.data: $E_DIR/data
			path.logs: $E_DIR/logs
			network.host: 127.0.0.1
			http.port: $port
			transport.port: $tport
			discovery.type: single-node
			xpack.security.enabled: false
			cluster.routing.allocation.disk.threshold_enabled: false
			action.destructive_requires_name: false
		EOF
		chown -R "$ES_USER:" "$E_DIR"
		rm -f "$E_DIR/es.pid"
		log "es: starting Elasticsearch $ver on 127.0.0.1:$port (transport $tport, java $JAVA_HOME_DIR)"
		# -d returns once the node has started, or failed to.
		(close_fds && cd "$home" && runuser -u "$ES_USER" -- env HOME="$E_DIR" ES_JAVA_HOME="$JAVA_HOME_DIR" \
			ES_JAVA_OPTS="-Xms512m -Xmx512m" ES_TMPDIR="$E_DIR/tmp" \
			"$home/bin/elasticsearch" -d -p "$E_DIR/es.pid") </dev/null >>"$E_DIR/startup.log" 2>&1 9>&- ||
			{
				tail_log "$E_DIR/startup.log"
				tail_log "$E_DIR/logs/sluice-testenv.log"
				die "es: did not start"
			}
	fi

	health=""
	for ((i = 0; i < TESTENV_TIMEOUT; i++)); do
		health="$(curl -fsS --max-time 5 "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null)" &&
			[[ "$health" == *'"status":"green"'* || "$health" == *'"status":"yellow"'* ]] && break
		health=""
		svc_pid es >/dev/null || break
		sleep 1
	done
	[[ -n "$health" ]] || {
		tail_log "$E_DIR/logs/sluice-testenv.log"
		die "es: cluster health not green or yellow after ${TESTENV_TIMEOUT}s"
	}

	printf "export SLUICE_TEST_ES_URL='http://127.0.0.1:%s'\n" "$port"
}

# ---------------------------------------------------------------------------

# Ports are picked here, one after another, so two services never get the same one.
declare -A args
taken=()
for s in "${services[@]}"; do
	mkdir -p "$TESTENV_DIR/$s"
	if svc_pid "$s" >/dev/null; then
		args[$s]=""
		continue
	fi
	case "$s" in
	pg | mysql)
		p="$(pick_port "$TESTENV_DIR/$s/port" "${taken[@]}")"
		taken+=("$p")
		args[$s]="$p"
		;;
	kafka)
		p="$(pick_port "$TESTENV_DIR/kafka/port" "${taken[@]}")"
		taken+=("$p")
		c="$(pick_port "$TESTENV_DIR/kafka/controller.port" "${taken[@]}")"
		taken+=("$c")
		sp="$(pick_port "$TESTENV_DIR/kafka/sasl.listen.port" "${taken[@]}")"
		taken+=("$sp")
		args[$s]="$p $c $sp"
		;;
	es)
		p="$(pick_port "$TESTENV_DIR/es/port" "${taken[@]}")"
		taken+=("$p")
		c="$(pick_port "$TESTENV_DIR/es/transport.port" "${taken[@]}")"
		taken+=("$c")
		args[$s]="$p $c"
		;;
	esac
done

# Start them side by side; each writes its export line to $TESTENV_DIR/exports/<svc>.
mkdir -p "$TESTENV_DIR/exports"
declare -A jobs
start_all=$SECONDS
for s in "${services[@]}"; do
	(
		t0=$SECONDS
		# shellcheck disable=SC2086
		if ! "ensure_$s" ${args[$s]} >"$TESTENV_DIR/exports/$s.tmp"; then
			rm -f "$TESTENV_DIR/exports/$s.tmp"
			exit 1
		fi
		mv "$TESTENV_DIR/exports/$s.tmp" "$TESTENV_DIR/exports/$s"
		log "$s: ready ($((SECONDS - t0))s)"
	) &
	jobs[$s]=$!
done

failed=()
for s in "${services[@]}"; do
	wait "${jobs[$s]}" || failed+=("$s")
done
write_env_sh
((${#failed[@]} == 0)) || die "not started: ${failed[*]} (logs under $TESTENV_DIR; testenv/down.sh stops the rest)"

for s in "${services[@]}"; do
	cat "$TESTENV_DIR/exports/$s"
done
log "all ready in $((SECONDS - start_all))s: ${services[*]}; environment also in $TESTENV_DIR/env.sh"
