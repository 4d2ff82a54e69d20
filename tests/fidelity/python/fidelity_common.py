"""Shared by the fidelity scripts: dependency preflight and JSON output.

The scripts run Kaltura's official Python client (PyPI ``KalturaApiClient``, pinned in
requirements.txt) from the project venv that ``make fidelity-deps`` fills. Exit codes:
0 done (API errors are results), 1 unexpected failure, 2 usage, 3 dependencies missing.
"""

import json
import sys
from importlib import metadata

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DEPS = 3

CLIENT_DIST = "KalturaApiClient"
CLIENT_VERSION = "23.10.0"


def fail(code, message):
    """Prints ``message`` to stderr and exits with ``code``."""
    sys.stderr.write("%s: %s\n" % (sys.argv[0], message))
    sys.exit(code)


def preflight():
    """Checks the pinned client and the modules it imports but does not declare (lxml, Crypto)."""
    try:
        installed = metadata.version(CLIENT_DIST)
    except metadata.PackageNotFoundError:
        fail(EXIT_DEPS, "%s is not installed in %s; run `make fidelity-deps`" % (CLIENT_DIST, sys.prefix))
    if installed != CLIENT_VERSION:
        fail(EXIT_DEPS, "%s %s installed, %s pinned; run `make fidelity-deps`" % (CLIENT_DIST, installed, CLIENT_VERSION))
    try:
        import Crypto.Cipher.AES  # noqa: F401  (pycryptodome: KS v2)
        import lxml.etree  # noqa: F401  (XML responses)
        import KalturaClient  # noqa: F401
    except ImportError as error:
        fail(EXIT_DEPS, "cannot import the official client's modules (%s); run `make fidelity-deps`" % error)
    return installed


def emit(document):
    """Prints the one JSON document of results."""
    sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")
    sys.stdout.flush()
