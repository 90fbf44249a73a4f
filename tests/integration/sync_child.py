"""A sync in its own process, for the crash test:
``python -m tests.integration.sync_child STORE_PATH [KIND]`` (default ``initial``), with the
login in the environment (SYNC_CHILD_TOKEN: the token response as JSON, SYNC_CHILD_BASE_URL,
SYNC_CHILD_CLIENT_ID — never argv, which other users can read).

Prints one line per progress event (after the page it reports is committed), then
``END <status>``; the parent kills it with SIGKILL somewhere in between.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.session import Session
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.sync.progress import ProgressEvent
from tests.postgres_server import open_test_store

BATCH = 200  # the smallest page Salesforce gives: many pages, many places to be killed


def _progress(event: ProgressEvent) -> None:
    print(f"PAGE {event.sobject} {event.done} {event.phase}", flush=True)


async def main(store_path: str, kind: str) -> str:
    token = json.loads(os.environ["SYNC_CHILD_TOKEN"])
    creds = credentials_from_token(
        token, environment=resolve_environment(os.environ["SYNC_CHILD_BASE_URL"]),
        client_id=os.environ["SYNC_CHILD_CLIENT_ID"])
    db = open_test_store(store_path)
    try:
        async with SalesforceClient(Session(creds), api_version="67.0",
                                    backoff_base=0.01) as client:
            engine = SyncEngine(client, db, progress=_progress, batch_size=BATCH)
            try:
                report = await engine.run(kind)
            finally:
                engine.close()
    finally:
        db.close()
    return report.status


if __name__ == "__main__":
    kind = sys.argv[2] if len(sys.argv) > 2 else "initial"
    print(f"END {asyncio.run(main(sys.argv[1], kind))}", flush=True)
