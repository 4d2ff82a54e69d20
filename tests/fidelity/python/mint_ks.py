#!/usr/bin/env python3
"""Mints Kaltura Sessions offline with the official Python client, v1 and v2.

Calls ``KalturaClient.generateSession`` (v1) and ``KalturaClient.generateSessionV2`` (v2),
the client's own static functions, for each case and prints them as one JSON document.

Usage: mint_ks.py CASES          (CASES is a JSON document, or "-" to read it from stdin)

    {"cases": [{"name": "…", "secret": "…", "partnerId": 1234567, "userId": "…", "type": 0,
                "expiry": 86400, "privileges": "a:b,c",
                "now": 1700000000, "rand": 4242, "rand16": "000102…0f"}]}

``now``, ``rand`` (v1's random number) and ``rand16`` (v2's 16 random bytes, hex) are optional:
given, they replace ``time.time()`` and the randomness for that case only, so the output can be
compared byte for byte with another minter; absent, the KS are real fresh ones.

Prints {"client": {...}, "cases": [{"name", "v1", "v2", "clock": {"before", "after"}, "patched"}]}
where ``clock`` brackets the (possibly patched) time the KS were minted at.
"""

import binascii
import contextlib
import json
import sys
import time
from unittest import mock

from fidelity_common import CLIENT_DIST, EXIT_USAGE, emit, fail, preflight


def read_cases(argument):
    text = sys.stdin.read() if argument == "-" else argument
    try:
        document = json.loads(text)
        cases = document["cases"]
        if not isinstance(cases, list):
            raise TypeError("cases is not a list")
        return cases
    except (ValueError, KeyError, TypeError) as error:
        fail(EXIT_USAGE, "CASES must be {\"cases\": [...]} (%s)" % error)


@contextlib.contextmanager
def patched(client_module, case):
    """Replaces the clock and the randomness the client reads, when the case fixes them."""
    with contextlib.ExitStack() as stack:
        if case.get("now") is not None:
            stack.enter_context(mock.patch.object(client_module.time, "time", return_value=float(case["now"])))
        if case.get("rand") is not None:
            stack.enter_context(mock.patch.object(client_module.random, "randint", return_value=int(case["rand"])))
        if case.get("rand16") is not None:
            rand16 = binascii.unhexlify(case["rand16"])
            if len(rand16) != client_module.KalturaClient.RANDOM_SIZE:
                fail(EXIT_USAGE, "rand16 must be 16 bytes of hex")
            stack.enter_context(mock.patch.object(client_module.Random, "get_random_bytes", return_value=rand16))
        yield


def mint(client_module, case):
    client = client_module.KalturaClient
    secret, user_id = case["secret"], case.get("userId", "")
    session_type, partner_id = int(case.get("type", 0)), int(case["partnerId"])
    expiry, privileges = int(case.get("expiry", 86400)), case.get("privileges", "")
    with patched(client_module, case):
        before = int(time.time())
        v1 = client.generateSession(secret, user_id, session_type, partner_id, expiry, privileges)
        v2 = client.generateSessionV2(secret, user_id, session_type, partner_id, expiry, privileges)
        after = int(time.time())
    return {
        "name": case.get("name", ""),
        "v1": v1.decode("ascii"),
        "v2": v2.decode("ascii"),
        "clock": {"before": before, "after": after},
        "patched": any(case.get(key) is not None for key in ("now", "rand", "rand16")),
    }


def main():
    if len(sys.argv) != 2:
        fail(EXIT_USAGE, "usage: mint_ks.py CASES_JSON|-")
    version = preflight()
    cases = read_cases(sys.argv[1])
    import KalturaClient.Client as client_module

    emit({"client": {"package": CLIENT_DIST, "version": version}, "cases": [mint(client_module, case) for case in cases]})


if __name__ == "__main__":
    main()
