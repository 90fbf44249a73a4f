"""The read-only audit: what the guard let through, as normalised ``METHOD path`` lines, and
whether each is one of the shapes SMVue may send.

Paths are normalised so ids and versions do not multiply the list:
``/services/data/v67.0/sobjects/Opportunity/006…`` becomes
``/services/data/vNN.0/sobjects/{sobject}/{id}``.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from smvue_tui.salesforce.guard import Entry

REPORT_ENV = "SMVUE_GUARD_REPORT"
_SF_ID = re.compile(r"[a-zA-Z0-9]{3}[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?")
_LOCATOR = re.compile(r"[a-zA-Z0-9]{15,18}-\d+")
_DATA = re.compile(r"^/services/data/v\d+\.\d+(?=/|$)")
_SOAP = re.compile(r"^/services/Soap/m/\d+\.\d+")
_IDENTITY = re.compile(r"^/id/[^/]+/[^/]+")

# Each allowed line shape (after normalisation) and why SMVue sends it.
ALLOWED = (
    (re.compile(r"^GET /services/data/?$"), "API versions"),
    (re.compile(r"^GET /services/data/vNN\.0/\S*$"), "REST read"),
    (re.compile(r"^GET /services/oauth2/userinfo/?$"), "identity read"),
    (re.compile(r"^GET /id/\{orgId\}/\{userId\}/?$"), "identity read"),
    (re.compile(r"^POST /services/oauth2/(token|revoke)/?$"), "OAuth token / revoke"),
    (re.compile(r"^POST /services/data/vNN\.0/composite(/batch)?/?$"), "GET-only composite"),
    (re.compile(r"^GET /services/data/vNN\.0/\S* \(via composite(/batch)?\)$"),
     "composite subrequest"),
    (re.compile(r"^POST /services/Soap/m/NN\.0/?$"), "Metadata SOAP (automation types only)"),
    (re.compile(r"^POST /services/data/vNN\.0/jobs/query/?$"),
     "Bulk 2.0 query job (query/queryAll only)"),
    (re.compile(r"^(PATCH|DELETE) /services/data/vNN\.0/jobs/query/\{id\}/?$"),
     "Bulk 2.0 query job abort / delete"),
)


def normalise_path(path: str) -> str:
    path = _DATA.sub("/services/data/vNN.0", path)
    path = _SOAP.sub("/services/Soap/m/NN.0", path)
    path = _IDENTITY.sub("/id/{orgId}/{userId}", path)
    parts = path.split("/")
    for i, part in enumerate(parts):
        before = parts[i - 1] if i else ""
        if before == "sobjects":
            parts[i] = "{sobject}"
        elif before in ("query", "queryAll") and _LOCATOR.fullmatch(part):
            parts[i] = "{locator}"
        elif _SF_ID.fullmatch(part) and any(c.isdigit() for c in part):
            parts[i] = "{id}"
    return "/".join(parts)


def line_of(entry: Entry) -> str:
    text = f"{entry.method} {normalise_path(entry.path)}"
    return f"{text} (via {entry.via})" if entry.via else text


def summarise(entries: Iterable[Entry]) -> list[str]:
    """Sorted unique normalised lines."""
    return sorted({line_of(e) for e in entries})


def why_allowed(line: str) -> str | None:
    """Which allowed shape ``line`` is, or None when it is not one of them."""
    return next((why for shape, why in ALLOWED if shape.match(line)), None)


def write_report(lines: Iterable[str], path: str | os.PathLike[str], run_id: str) -> None:
    """Write ``lines`` to the report file. xdist workers of one run (same ``run_id``) share
    it: each merges its lines in under a lock; a file from an earlier run is replaced."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"# smvue-tui read-only guard report, run {run_id}"
    with open(target, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        old = [ln.strip() for ln in fh if ln.strip()]
        merged = set(lines) | (set(old[1:]) if old[:1] == [header] else set())
        fh.seek(0)
        fh.truncate()
        fh.write("".join(f"{ln}\n" for ln in [header, *sorted(merged)]))


def run_id() -> str:
    """Shared by the xdist workers of one run; a fresh one otherwise."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
