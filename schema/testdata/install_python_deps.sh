#!/bin/sh
# Installs what schema/testdata/decode_fastavro.py needs (fastavro, at the
# version requirements.txt pins), for the cross-language checks in
# schema/fastavro_test.go and connectors/postgres/fastavro_test.go, into the
# project's Python virtual environment (testenv/pyvenv.sh), never into the
# system's or the user's site-packages. Prints nothing and returns at once
# when it is already there.
set -eu
here="$(dirname "$0")"
venv="$(sh "$here/../../testenv/pyvenv.sh")"
version="$(sed -n 's/^fastavro==//p' "$here/requirements.txt")"
if "$venv/bin/python" -c 'import sys, fastavro; sys.exit(fastavro.__version__ != sys.argv[1])' "$version" 2>/dev/null; then
	exit 0
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
