#!/usr/bin/env bash
# `make deps-check`: runs the Python part of `make deps` (testenv/pyvenv.sh,
# fastavro, schemathesis) as on a fresh Debian 12 machine: with Debian's own
# /usr/bin/python3 first on PATH (pyenv and the like taken off it) and an empty
# HOME in a scratch directory, then checks that both tools run from the
# project's virtual environment and that nothing went into the user's
# site-packages. Only the Python step runs there: Go modules and Maven
# artifacts are not fetched again. Needs python3-venv (testenv/install.sh
# installs it), and removes the scratch directory when done.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
system_python=/usr/bin/python3
[[ -x "$system_python" ]] || { echo "deps-check: $system_python is missing (apt-get install python3)" >&2; exit 1; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/sluice-deps-check.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/home" "$scratch/work"

# PATH as on a plain machine: /usr/bin and /bin first, then the rest of PATH
# without any pyenv, virtualenv or user-local Python entries.
path=/usr/bin:/bin
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
	case "$d" in
	"" | /usr/bin | /bin | *pyenv* | */.local/bin | "${VIRTUAL_ENV:-/nonexistent}"/*) continue ;;
	esac
	path+=":$d"
done

# Variables that would point Python or the venv elsewhere go; pip's own
# settings (index, certificates) stay, as on any machine.
run() {
	(cd "$scratch/work" && env -u PYENV_VERSION -u PYENV_ROOT -u VIRTUAL_ENV -u PYTHONPATH \
		-u PYTHONHOME -u PYTHONUSERBASE -u XDG_CACHE_HOME -u SLUICE_TESTENV_CACHE \
		-u SLUICE_TESTENV_PYVENV -u PIP_USER -u PIP_REQUIRE_VIRTUALENV \
		HOME="$scratch/home" PATH="$path" "$@")
}

got="$(run sh -c 'command -v python3')"
[[ "$got" == "$system_python" ]] || { echo "deps-check: python3 resolves to $got, not $system_python" >&2; exit 1; }
echo "deps-check: $(run python3 --version) ($got), HOME=$scratch/home" >&2

run sh "$repo/schema/testdata/install_python_deps.sh"
run sh "$repo/daemon/api/testdata/install_schemathesis.sh"
# Idempotent: a second run is silent and installs nothing.
again="$(run sh -c 'sh "$1/schema/testdata/install_python_deps.sh" && sh "$1/daemon/api/testdata/install_schemathesis.sh"' _ "$repo" 2>&1)"
[[ -z "$again" ]] || { printf 'deps-check: a second run printed:\n%s\n' "$again" >&2; exit 1; }

venv="$scratch/home/.cache/sluice-testenv/pyvenv"
[[ "$(readlink -f "$venv/bin/python")" == "$(readlink -f "$system_python")" ]] ||
	{ echo "deps-check: $venv was not made with $system_python" >&2; exit 1; }
fastavro="$(run "$venv/bin/python" -c 'import fastavro; print(fastavro.__version__)')"
schemathesis="$(run "$venv/bin/schemathesis" --version)"
# decode_fastavro.py reads {"x": 21} (zigzag varint 42, 0x2a) as the tests run it.
printf '{"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]}' >"$scratch/work/r.avsc"
printf '\052' >"$scratch/work/r.bin"
decoded="$(run "$venv/bin/python" "$repo/schema/testdata/decode_fastavro.py" r.avsc r.bin)"
[[ "$decoded" == '{"x": 21}' ]] || { echo "deps-check: decode_fastavro.py printed $decoded, want {\"x\": 21}" >&2; exit 1; }
if [[ -e "$scratch/home/.local" ]]; then
	echo "deps-check: something was installed into the user's site-packages:" >&2
	find "$scratch/home/.local" -maxdepth 4 >&2
	exit 1
fi
echo "deps-check: ok: fastavro $fastavro, $schemathesis, in $venv" >&2
