#!/usr/bin/env bash
# Installs Kaltura's official client libraries for the fidelity tests
# (crates/kalcord-kaltura-emulator/tests/fidelity.rs); `make fidelity-deps` runs this.
#
#   Node:   npm ci in tests/fidelity/node (kaltura-client) and tests/fidelity/discord
#           (discord-api-spec, zod, discord-interactions), exactly as their lockfiles say
#   Python: pip install -r tests/fidelity/python/requirements.txt into <project>/.venv
#           (created with `python3 -m venv` if missing; scripts/services.sh shares it)
#
# Idempotent and fast when up to date: each half writes a stamp (a hash of its lockfile and
# toolchain) after a successful install and skips the install while the stamp still matches
# and the installed packages are still there. A failed install (e.g. a registry that cannot be
# reached) stops with an error: the fidelity tests are never skipped for want of their clients.
#
# Environment: PYTHON (default python3) creates the venv; NPM (default npm).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_DIR=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
NODE_DIR="$SCRIPT_DIR/node"
PY_DIR="$SCRIPT_DIR/python"
VENV_DIR="$PROJECT_DIR/.venv"
PY_STAMP="$VENV_DIR/.kalcord-fidelity-stamp"
PYTHON=${PYTHON:-python3}
NPM=${NPM:-npm}

note() { printf 'fidelity-deps: %s\n' "$*" >&2; }
die() {
    printf '\nfidelity-deps: ERROR: %s\n\n' "$*" >&2
    exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"; }
# stamp FILE... -> one line identifying the inputs (content hashes) of an install
stamp_of() { sha256sum "$@" | awk '{print $1}' | tr '\n' ' '; }

# ------------------------------------------------------------------- node --
need node "install Node.js 18+ (the machine's package manager has it)"
need "$NPM" "install npm (comes with Node.js)"
# npm_ci DIR WHAT MARKER: npm ci in DIR unless its stamp matches and MARKER (a file under
# node_modules) exists.
npm_ci() {
    local dir=$1 what=$2 marker=$3
    local stamp_file="$dir/node_modules/.kalcord-fidelity-stamp"
    local stamp
    stamp="$(stamp_of "$dir/package.json" "$dir/package-lock.json")node=$(node --version)"
    if [[ -f $stamp_file && $(<"$stamp_file") == "$stamp" && -f $dir/node_modules/$marker ]]; then
        note "node: up to date ($dir/node_modules)"
        return
    fi
    note "node: npm ci in $dir"
    if ! (cd "$dir" && "$NPM" ci --no-audit --no-fund --loglevel=error >&2); then
        die "npm ci failed in $dir. Is the npm registry reachable from here? \
The fidelity tests need $what; rerun \`make fidelity-deps\` once it is."
    fi
    printf '%s' "$stamp" >"$stamp_file"
}
npm_ci "$NODE_DIR" "Kaltura's official Node client (kaltura-client)" kaltura-client/package.json
npm_ci "$SCRIPT_DIR/discord" "Discord's published schemas (discord-api-spec) and discord-interactions" discord-api-spec/package.json

# ----------------------------------------------------------------- python --
if [[ ! -x $VENV_DIR/bin/python ]]; then
    need "$PYTHON" "install Python 3 (with the venv module)"
    note "python: creating $VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR" || die "could not create the venv $VENV_DIR with $PYTHON -m venv"
fi
VENV_PY="$VENV_DIR/bin/python"
"$VENV_PY" -m pip --version >/dev/null 2>&1 ||
    die "the venv $VENV_DIR has no pip (on Debian: apt-get install python3-venv, remove $VENV_DIR, rerun)"
py_stamp="$(stamp_of "$PY_DIR/requirements.txt")python=$("$VENV_PY" -c 'import sys; print(sys.version.split()[0])')"
# Every pinned distribution is installed at its pinned version (cheap: metadata only).
pins_installed() {
    "$VENV_PY" - "$PY_DIR/requirements.txt" <<'EOF'
import re, sys
from importlib import metadata
for line in open(sys.argv[1]):
    pin = re.match(r"\s*([A-Za-z0-9._-]+)==([^\s#;]+)", line)
    if pin:
        try:
            if metadata.version(pin.group(1)) != pin.group(2):
                sys.exit(1)
        except metadata.PackageNotFoundError:
            sys.exit(1)
EOF
}
if [[ -f $PY_STAMP && $(<"$PY_STAMP") == "$py_stamp" ]] && pins_installed; then
    note "python: up to date ($VENV_DIR)"
else
    note "python: pip install -r $PY_DIR/requirements.txt into $VENV_DIR"
    rm -f "$PY_STAMP"
    if ! "$VENV_PY" -m pip install --disable-pip-version-check --quiet -r "$PY_DIR/requirements.txt" >&2; then
        die "pip install failed for $PY_DIR/requirements.txt. Is PyPI reachable from here? \
The fidelity tests need Kaltura's official Python client (KalturaApiClient); rerun \`make fidelity-deps\` once it is."
    fi
    pins_installed || die "pip finished but the pinned versions of $PY_DIR/requirements.txt are not all installed in $VENV_DIR"
    printf '%s' "$py_stamp" >"$PY_STAMP"
fi
