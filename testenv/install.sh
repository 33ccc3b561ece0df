#!/usr/bin/env bash
# Installs what testenv/up.sh needs to run PostgreSQL, MariaDB, Kafka and
# Elasticsearch on this machine (Debian 12, as root), and does nothing slow
# when all of it is already there:
#   - Debian packages: PostgreSQL, MariaDB server and client, a JRE, Maven,
#     unzip, curl, python3-venv, faketime (apt-get update runs only when
#     something is missing);
#   - Kafka's broker jars, resolved by Maven from testenv/kafka/pom.xml into
#     ~/.m2, with the classpath recorded in $SLUICE_TESTENV_CACHE/kafka.classpath;
#   - the Java transforms runner: Kafka Connect's and Debezium's transforms,
#     resolved by Maven from testenv/smtjava/pom.xml, and SmtRunner.java
#     compiled against them into $SLUICE_TESTENV_CACHE/smtjava;
#   - Kafka Connect 4.3 with Debezium's Postgres and MySQL connectors, and
#     with its MariaDB connector, resolved by Maven from testenv/debezium's
#     pom.xml and mariadb/pom.xml, the classpaths recorded in
#     $SLUICE_TESTENV_CACHE/debezium.classpath and debezium-mariadb.classpath;
#   - Elasticsearch's integration-test zip (no bundled JDK), the newest of
#     SLUICE_ES_VERSIONS that resolves, recorded in $SLUICE_TESTENV_CACHE/es.version;
#   - the system user that runs Elasticsearch.
# Prints the resolved versions on stdout.
set -euo pipefail
# shellcheck source=testenv/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Newest first. 8.x before 7.17.x, which is only a fallback.
ES_VERSIONS="${SLUICE_ES_VERSIONS:-8.19.21 8.19.4 8.19.2 8.19.0 8.18.0 8.17.4 8.15.0 7.17.29}"

[[ "$(id -u)" == 0 ]] || die "run as root (it installs Debian packages and creates system users)"

# --- Debian packages --------------------------------------------------------

pkg_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing=()
pg_bindir >/dev/null || missing+=(postgresql)
pkg_installed mariadb-server || missing+=(mariadb-server)
pkg_installed mariadb-client || missing+=(mariadb-client)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
# javac compiles testenv/smtjava/SmtRunner.java.
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v unzip >/dev/null || missing+=(unzip)
command -v curl >/dev/null || missing+=(curl)
# openssl makes the certificates of Kafka's SASL_SSL listener (testenv/up.sh).
command -v openssl >/dev/null || missing+=(openssl)
# libfaketime sets a private database's clock an hour off (cmd/sluice's
# TestFaultClockSkew).
[[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ]] || missing+=(faketime)
# Headless Chromium drives the SSE example page in connectors/sse/browser_test.go.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# The Python test tools go into a virtual environment (testenv/pyvenv.sh), made
# by the python3 on PATH (Debian's /usr/bin/python3 in `make deps-check`), and
# Debian ships venv's ensurepip apart from python3.
can_venv() { "$1" -m venv --help >/dev/null 2>&1 && "$1" -c 'import ensurepip' 2>/dev/null; }
if ! command -v python3 >/dev/null || [[ ! -x /usr/bin/python3 ]]; then
	missing+=(python3 python3-venv)
elif ! can_venv python3 || ! can_venv /usr/bin/python3; then
	missing+=(python3-venv)
fi

if ((${#missing[@]})); then
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_opts=(-qq -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
	apt-get "${apt_opts[@]}" update >&2
	apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >&2
else
	log "Debian packages: all present"
fi
pg_bindir >/dev/null || die "PostgreSQL was installed but no /usr/lib/postgresql/*/bin/initdb was found"
command -v go >/dev/null || log "warning: 'go' is not on PATH; up.sh uses it to check that Kafka answers metadata requests"

ensure_user "$ES_USER"

mkdir -p "$TESTENV_CACHE"
# mvn_quiet ARGS...: quiet Maven; its output (errors only, with -q) goes to
# stderr without the colour-reset codes Debian's Maven prints even in batch mode.
mvn_quiet() {
	local out rc=0
	out="$(mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" "$@" 2>&1)" || rc=$?
	out="$(printf '%s' "$out" | sed 's/\x1b\[[0-9;]*m//g')"
	[[ -z "${out//[[:space:]]/}" ]] || printf '%s\n' "$out" >&2
	return "$rc"
}

# --- Kafka --------------------------------------------------------------------

kafka_pom="$TESTENV_SRC/kafka/pom.xml"
kafka_cp="$TESTENV_CACHE/kafka.classpath"
kafka_sum="$TESTENV_CACHE/kafka.pom.sha256"

kafka_cp_ok() {
	[[ -s "$kafka_cp" && -r "$kafka_sum" ]] || return 1
	[[ "$(sha256sum <"$kafka_pom")" == "$(cat "$kafka_sum")" ]] || return 1
	local jar
	while IFS= read -r jar; do
		[[ -f "$jar" ]] || return 1
	done < <(tr ':' '\n' <"$kafka_cp")
}

if kafka_cp_ok; then
	log "Kafka: classpath already resolved ($kafka_cp)"
else
	log "Kafka: resolving broker jars with Maven (testenv/kafka/pom.xml)"
	tmp="$kafka_cp.tmp"
	mvn_quiet -f "$kafka_pom" dependency:build-classpath -Dmdep.outputFile="$tmp" ||
		die "Maven could not resolve testenv/kafka/pom.xml"
	[[ -s "$tmp" ]] || die "Maven wrote an empty Kafka classpath"
	mv "$tmp" "$kafka_cp"
	sha256sum <"$kafka_pom" >"$kafka_sum"
fi
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$kafka_pom")"

# --- Java transforms runner ---------------------------------------------------

smt_src="$TESTENV_SRC/smtjava"
smt_dir="$TESTENV_CACHE/smtjava"
# smt_sum: the sha256 of the runner's sources; testenv/smtjava's Go side checks it too.
smt_sum() { cat "$smt_src/pom.xml" "$smt_src/SmtRunner.java" | sha256sum; }

smt_ok() {
	[[ -s "$smt_dir/classpath" && -s "$smt_dir/classes/SmtRunner.class" && -r "$smt_dir/source.sha256" ]] || return 1
	[[ "$(smt_sum)" == "$(cat "$smt_dir/source.sha256")" ]] || return 1
	local jar
	while IFS= read -r jar; do
		[[ -f "$jar" ]] || return 1
	done < <(tr ':' '\n' <"$smt_dir/classpath")
}

if smt_ok; then
	log "Java transforms runner: already built ($smt_dir)"
else
	log "Java transforms runner: resolving jars with Maven (testenv/smtjava/pom.xml) and compiling SmtRunner.java"
	rm -rf "$smt_dir"
	mkdir -p "$smt_dir"
	mvn_quiet -f "$smt_src/pom.xml" dependency:build-classpath -Dmdep.outputFile="$smt_dir/classpath" ||
		die "Maven could not resolve testenv/smtjava/pom.xml"
	javac="$(java_home)/bin/javac"
	[[ -x "$javac" ]] || javac=javac
	"$javac" --release 17 -d "$smt_dir/classes" -cp "$(cat "$smt_dir/classpath")" "$smt_src/SmtRunner.java" >&2 ||
		die "javac could not compile testenv/smtjava/SmtRunner.java"
	smt_sum >"$smt_dir/source.sha256"
fi

# --- Debezium on Kafka Connect ------------------------------------------------

# dbz_resolve NAME POM: records in $TESTENV_CACHE/NAME.classpath the jars POM
# resolves, and the pom's sha256 in NAME.pom.sha256 (testenv/debezium checks it).
dbz_resolve() {
	local name=$1 pom=$2 cp="$TESTENV_CACHE/$1.classpath" sum="$TESTENV_CACHE/$1.pom.sha256" jar ok=1
	if [[ -s "$cp" && -r "$sum" && "$(sha256sum <"$pom")" == "$(cat "$sum")" ]]; then
		while IFS= read -r jar; do
			[[ -f "$jar" ]] || ok=0
		done < <(tr ':' '\n' <"$cp")
		if ((ok)); then
			log "Debezium: $name classpath already resolved ($cp)"
			return
		fi
	fi
	log "Debezium: resolving $name with Maven (${pom#"$REPO_ROOT/"})"
	mvn_quiet -f "$pom" dependency:build-classpath -Dmdep.outputFile="$cp.tmp" ||
		die "Maven could not resolve ${pom#"$REPO_ROOT/"}"
	[[ -s "$cp.tmp" ]] || die "Maven wrote an empty $name classpath"
	mv "$cp.tmp" "$cp"
	sha256sum <"$pom" >"$sum"
}

dbz_resolve debezium "$TESTENV_SRC/debezium/pom.xml"
dbz_resolve debezium-mariadb "$TESTENV_SRC/debezium/mariadb/pom.xml"

# --- Elasticsearch ------------------------------------------------------------

es_zip() { printf '%s/org/elasticsearch/distribution/integ-test-zip/elasticsearch/%s/elasticsearch-%s.zip\n' "$M2_REPO" "$1" "$1"; }

es_version=""
for v in $ES_VERSIONS; do
	if [[ -s "$(es_zip "$v")" ]]; then
		es_version=$v
		break
	fi
	log "Elasticsearch: trying integ-test-zip $v"
	if mvn_quiet dependency:get -Dtransitive=false \
		-Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$v:zip" >/dev/null 2>&1 &&
		[[ -s "$(es_zip "$v")" ]]; then
		es_version=$v
		break
	fi
	log "Elasticsearch: $v did not resolve"
done
[[ -n "$es_version" ]] || die "no Elasticsearch integ-test-zip resolved (tried: $ES_VERSIONS)"
printf '%s\n' "$es_version" >"$TESTENV_CACHE/es.version"
log "Elasticsearch: $es_version ($(es_zip "$es_version"))"

printf 'kafka %s\nelasticsearch %s\n' "$kafka_version" "$es_version"
