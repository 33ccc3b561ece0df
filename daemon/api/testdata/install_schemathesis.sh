#!/bin/sh
# Installs schemathesis, the property-based API fuzzer that checks the REST
# API against its OpenAPI document (cmd/sluice/apifuzz_test.go), into the
# project's Python virtual environment (testenv/pyvenv.sh), never into the
# system's or the user's site-packages. Prints nothing and returns at once
# when it is already there.
set -eu
version=4.32.5
venv="$(sh "$(dirname "$0")/../../../testenv/pyvenv.sh")"
if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$version"; then
	exit 0
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
