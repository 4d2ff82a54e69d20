#!/usr/bin/env python3
"""Drives a Kaltura api_v3 server (our emulator) with the official Python client, in XML.

The official Python client (PyPI ``KalturaApiClient``) only speaks ``format=2``: it posts JSON
with every scalar as a string and parses the XML answer with lxml, raising ``KalturaException``
for an ``<error>``. Like an integrator would, it mints its own sessions offline
(``generateSessionV2`` / ``generateSession``) and then calls:

* ``session.get`` with the v2 and the v1 KS (what the server read out of them);
* ``media.list`` with a ``KalturaMediaEntryFilter`` (``nameLike``, ``statusEqual``, ``orderBy``)
  and a ``KalturaFilterPager``, once for a whole page and once for page 2 of size 1;
* ``media.get`` of a missing entry (``ENTRY_ID_NOT_FOUND``), a call with a KS signed with
  another secret (``INVALID_KS``), and a multirequest mixing a failure and a success.

Usage: drive.py SERVICE_URL PARTNER_ID ADMIN_SECRET NAME_LIKE MISSING_ENTRY_ID
Prints one JSON document of results (see ``main``).
"""

import sys

from fidelity_common import CLIENT_DIST, EXIT_UNEXPECTED, EXIT_USAGE, emit, fail, preflight

ENTRY_FIELDS = (
    "id", "name", "partnerId", "status", "type", "mediaType", "sourceType", "rootEntryId", "referenceId",
    "duration", "msDuration", "width", "height", "createdAt", "updatedAt", "userId", "flavorParamsIds",
)
SESSION_FIELDS = ("ks", "sessionType", "partnerId", "userId", "expiry", "privileges")


def plain(value):
    """A client value as JSON: enums by their value, unset properties as null."""
    if value is NotImplemented:
        return None
    if hasattr(value, "getValue"):
        return value.getValue()
    return value


def as_dict(obj, fields):
    document = {"class": type(obj).__name__}
    document.update({field: plain(getattr(obj, field, NotImplemented)) for field in fields})
    return document


def listing(response):
    return {
        "class": type(response).__name__,
        "totalCount": plain(response.totalCount),
        "objects": [as_dict(entry, ENTRY_FIELDS) for entry in response.objects],
    }


def api_error(error):
    return {"class": type(error).__name__, "code": error.code, "message": error.message}


def main():
    if len(sys.argv) != 6:
        fail(EXIT_USAGE, "usage: drive.py SERVICE_URL PARTNER_ID ADMIN_SECRET NAME_LIKE MISSING_ENTRY_ID")
    version = preflight()
    service_url, partner_text, secret, name_like, missing_entry = sys.argv[1:]
    partner_id = int(partner_text)

    from KalturaClient import KalturaClient, KalturaConfiguration
    from KalturaClient.exceptions import KalturaException
    from KalturaClient.Plugins.Core import (
        KalturaEntryStatus,
        KalturaFilterPager,
        KalturaMediaEntryFilter,
        KalturaMediaEntryOrderBy,
        KalturaSessionType,
    )

    config = KalturaConfiguration(service_url)
    config.requestTimeout = 10
    client = KalturaClient(config)
    out = {
        "client": {
            "package": CLIENT_DIST,
            "version": version,
            "format": config.format,
            "clientTag": client.clientConfiguration["clientTag"],
            "apiVersion": client.clientConfiguration["apiVersion"],
        },
    }

    def attempt(call):
        try:
            return {"ok": True, "result": call()}
        except KalturaException as error:
            return {"ok": False, "error": api_error(error)}

    admin = KalturaSessionType.ADMIN
    ks_v2 = KalturaClient.generateSessionV2(secret, "fidelity-py", admin, partner_id, 3600, "disableentitlement")
    ks_v1 = KalturaClient.generateSession(secret, "fidelity-py-v1", admin, partner_id, 3600, "disableentitlement")
    out["ks"] = {"v2": ks_v2.decode("ascii"), "v1": ks_v1.decode("ascii")}

    client.setKs(out["ks"]["v1"])
    out["sessionGetV1"] = attempt(lambda: as_dict(client.session.get(), SESSION_FIELDS))
    client.setKs(out["ks"]["v2"])
    out["sessionGetV2"] = attempt(lambda: as_dict(client.session.get(), SESSION_FIELDS))

    entry_filter = KalturaMediaEntryFilter()
    entry_filter.nameLike = name_like
    entry_filter.statusEqual = KalturaEntryStatus.READY
    entry_filter.orderBy = KalturaMediaEntryOrderBy.CREATED_AT_DESC
    first_page = KalturaFilterPager()
    first_page.pageSize = 50
    first_page.pageIndex = 1
    out["mediaList"] = attempt(lambda: listing(client.media.list(entry_filter, first_page)))
    second_of_one = KalturaFilterPager()
    second_of_one.pageSize = 1
    second_of_one.pageIndex = 2
    out["mediaListPage2"] = attempt(lambda: listing(client.media.list(entry_filter, second_of_one)))

    out["mediaGetMissing"] = attempt(lambda: as_dict(client.media.get(missing_entry), ENTRY_FIELDS))

    client.startMultiRequest()
    client.media.get(missing_entry)
    client.session.get()
    results = client.doMultiRequest()
    out["multirequest"] = [
        api_error(result) if isinstance(result, KalturaException) else as_dict(result, SESSION_FIELDS)
        for result in results
    ]

    forged = KalturaClient.generateSessionV2("not-the-admin-secret", "fidelity-py", admin, partner_id, 3600, "")
    forged = forged.decode("ascii")
    client.setKs(forged)
    out["forgedKs"] = {"ks": forged, "mediaList": attempt(lambda: listing(client.media.list(entry_filter)))}

    emit(out)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001  (anything but an API error is a failure of the run)
        import traceback

        traceback.print_exc()
        fail(EXIT_UNEXPECTED, "unexpected failure: %r" % (error,))
