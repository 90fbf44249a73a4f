"""Run a peer extractor (Airbyte's source-salesforce, the Singer tap) against a local demo org.

Runs INSIDE the peer's own virtualenv (it imports nothing of smvue), started by peers_bench.py:

    <venv>/bin/python peers_launch.py --org http://127.0.0.1:PORT --log calls.jsonl \
        [--airbyte-api rest] airbyte read --config c.json --catalog cat.json
    <venv>/bin/python peers_launch.py --org http://127.0.0.1:PORT --log calls.jsonl \
        singer --config c.json --properties p.json

Both peers hard-code the token URL ``https://{login|test}.salesforce.com/services/oauth2/token``
and take ``instance_url`` verbatim from the token response. So the only change made here is in
``requests``: a POST to that token URL goes to the demo org's token endpoint instead (the real
refresh-token grant runs, and the demo org answers with its own http://127.0.0.1 instance URL).
Every request is appended to ``--log`` (method, path + query, status, seconds; the SOQL of a
Bulk 2.0 job) so the benchmark can say exactly what each peer sent. No token is logged.

Airbyte's 20-connection pool, mounted for https:// only, is mounted for http:// too.

``--airbyte-api rest``: the connector has no switch for REST (it picks Bulk 2.0 for every object
without base64/compound fields); this patches its choice to REST for every stream.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from urllib.parse import urlsplit

TOKEN_URLS = ("https://login.salesforce.com/services/oauth2/token",
              "https://test.salesforce.com/services/oauth2/token")


def patch_requests(org_url: str, log_path: str) -> None:
    import requests

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 — open for the process's life
    lock = threading.Lock()
    original = requests.Session.send  # both peers end here (Airbyte's CDK sends prepared requests)

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        if str(request.url).split("?")[0] in TOKEN_URLS:
            request.url = org_url + "/services/oauth2/token"
        started = time.perf_counter()
        status: int | str = "error"
        answer = ""
        try:
            response = original(self, request, **kwargs)
            status = response.status_code
            if status >= 400 and not kwargs.get("stream"):
                answer = response.text[:300]  # Salesforce's error list: code and message
            return response
        finally:
            parts = urlsplit(str(request.url))
            entry = {"method": request.method, "path": parts.path,
                     "query": parts.query[:300], "status": status,
                     "seconds": round(time.perf_counter() - started, 4)}
            if answer:
                entry["answer"] = answer
            if "/jobs/" in parts.path or "/async/" in parts.path:  # what a Bulk client sends
                entry["headers"] = {k: v for k, v in request.headers.items()
                                    if k.lower() in ("accept", "accept-encoding", "content-type")}
            if parts.path.rstrip("/").endswith("/jobs/query") and request.method == "POST":
                body = request.body
                entry["job"] = (body.decode(errors="replace") if isinstance(body, bytes)
                                else str(body))[:2000]
            with lock:
                log.write(json.dumps(entry, default=str) + "\n")

    requests.Session.send = send  # type: ignore[method-assign]


def airbyte_pool_on_http() -> None:
    """The connector mounts its 20-connection pool for https:// only; on the demo org's http://
    it would get requests' default 10 (and discard connections): mount the same for http://."""
    from source_salesforce.api import Salesforce

    original = Salesforce.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.session.mount("http://", self.session.get_adapter("https://x"))

    Salesforce.__init__ = init  # type: ignore[method-assign]


def force_airbyte_rest() -> None:
    from source_salesforce.source import SourceSalesforce

    SourceSalesforce._get_api_type = classmethod(  # type: ignore[method-assign]
        lambda cls, stream_name, json_schema, force_use_bulk_api: "rest")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--org", required=True, help="the demo org's base URL")
    parser.add_argument("--log", required=True, help="append one JSON line per request here")
    parser.add_argument("--airbyte-api", choices=("auto", "rest"), default="auto")
    parser.add_argument("peer", choices=("airbyte", "singer"))
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    patch_requests(args.org.rstrip("/"), args.log)
    if args.peer == "airbyte":
        airbyte_pool_on_http()
        if args.airbyte_api == "rest":
            force_airbyte_rest()
        from source_salesforce.run import run

        sys.argv = ["source-salesforce", *args.args]
        return run() or 0
    from tap_salesforce import main as tap_main

    sys.argv = ["tap-salesforce", *args.args]
    tap_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
