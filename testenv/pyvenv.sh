#!/bin/sh
# Creates the project's Python virtual environment, which holds the Python
# test tools (fastavro, schemathesis), and prints its directory. Nothing goes
# into the system's or the user's site-packages, so it works with a Python
# that refuses `pip install --user` (PEP 668, as Debian's does).
#
# The directory is $SLUICE_TESTENV_PYVENV, else $SLUICE_TESTENV_CACHE/pyvenv,
# else ${XDG_CACHE_HOME:-$HOME/.cache}/sluice-testenv/pyvenv; testenv.PyVenv
# in testenv/pyvenv.go finds it the same way. It is made with the python3 on
# PATH, and made anew when its interpreter no longer runs. Prints nothing else
# and returns at once when it is already there.
set -eu
cache="${SLUICE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-testenv}"
venv="${SLUICE_TESTENV_PYVENV:-$cache/pyvenv}"
if ! "$venv/bin/python" -c '' 2>/dev/null || [ ! -x "$venv/bin/pip" ]; then
	command -v python3 >/dev/null || {
		echo "pyvenv.sh: python3 is not on PATH" >&2
		exit 1
	}
	if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
		echo "pyvenv.sh: $(command -v python3) cannot create virtual environments; on Debian install python3-venv (testenv/install.sh does)" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$venv")"
	python3 -m venv --clear "$venv" >&2
fi
printf '%s\n' "$venv"
