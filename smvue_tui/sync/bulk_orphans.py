"""Bulk jobs a killed run created but never checkpointed: found on the next run and aborted.

A job's id is saved (the ``~bulk:<Object>`` checkpoint) only once Salesforce has answered its
create. A run killed in between leaves a job that nothing here knows of, running (and counted
against the org's jobs) until Salesforce's 7-day clean-up. So before creating a job the run
writes an intent to the checkpoint row (``bulk_read.intent``: when, and whether a ``query`` or
``queryAll``), which the job's id then replaces. An intent still there on the next run means a
create may have reached Salesforce unanswered: that run lists the org's query jobs ("Get
Information About All Query Jobs") and aborts and deletes those that are surely ours:

- created by this login's user, on the object of an intent, with its operation and the job
  options our client always sends (CSV, COMMA, LF);
- created within ``WINDOW`` of the intent (either side: the two clocks differ, a create retries);
- still UploadComplete or InProgress (a finished job holds no Salesforce resources but its
  results: left for the 7-day clean-up), and in no checkpoint (a job we are resuming).

A job info carries no query text, so nothing narrower can be asked; another tool's job on the
same object, by the same user, within those minutes, is the only job this could take for ours.
Intents are forgotten once the list was read whole, or refused (asking each run would not help);
a list that fails on the way (the link, the server) keeps them for the next run.
No intent, no call: a run after a clean stop spends nothing here.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from smvue_tui.salesforce.bulk import JOB_OPTIONS, BulkQueries, BulkUnavailable
from smvue_tui.salesforce.errors import ServerUnavailable
from smvue_tui.store import models as m
from smvue_tui.sync.bulk_read import STATE_PREFIX, clear_state, state_of
from smvue_tui.sync.fetch import SyncContext, parse_stamp

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=10)
RUNNING = ("UploadComplete", "InProgress")


def intents(cursors: dict[str, m.SyncCursor]) -> dict[str, dict[str, Any]]:
    """Object → the intent its checkpoint row still holds (no job saved after it)."""
    out = {}
    for key, row in cursors.items():
        if not key.startswith(STATE_PREFIX) or not row.watermark or state_of(row) is not None:
            continue
        try:
            state = json.loads(row.watermark)
            parse_stamp(state["creating"])
        except (KeyError, TypeError, ValueError):
            continue
        out[key[len(STATE_PREFIX):]] = state
    return out


def ours(job: dict[str, Any], pending: dict[str, dict[str, Any]], user_id: str,
         known: set[str]) -> bool:
    """Whether ``job`` (a job info of the list) is one a killed run of ours created."""
    want = pending.get(str(job.get("object")))
    if want is None or job.get("id") in known or job.get("state") not in RUNNING:
        return False
    if job.get("jobType", "V2Query") != "V2Query" or job.get("operation") != want["operation"]:
        return False
    if any(job.get(k, v) != v for k, v in JOB_OPTIONS.items()):
        return False
    if not user_id or str(job.get("createdById", ""))[:15] != user_id[:15]:
        return False
    try:
        created = parse_stamp(str(job.get("createdDate")))
    except ValueError:
        return False
    return abs(created - parse_stamp(want["creating"])) <= WINDOW


async def abort_orphans(ctx: SyncContext) -> list[str]:
    """Abort and delete the jobs killed runs left (see the module); returns their ids."""
    pending = intents(ctx.cursors)
    if not pending:
        return []
    known = {state["job"] for row in ctx.cursors.values() if (state := state_of(row))}
    creds = getattr(getattr(ctx.client, "session", None), "credentials", None)
    user_id = str(getattr(creds, "user_id", "") or "")
    bulk = BulkQueries(ctx.client)
    try:
        found = [job async for job in bulk.all_jobs() if ours(job, pending, user_id, known)]
    except ServerUnavailable as exc:  # a passing fault: the next run looks again
        log.warning("could not list Bulk jobs to find ones an interrupted sync left (%s: %s)",
                    exc.code, exc.detail)
        return []
    except BulkUnavailable as exc:  # refused (a permission, say): asking each run won't help
        log.warning("Salesforce refused the Bulk job list (%s: %s): a job an interrupted sync "
                    "left is ended by Salesforce's 7-day clean-up", exc.code, exc.detail)
        found = []
    for job in found:
        log.info("aborting Bulk job %s (%s): an interrupted sync created it", job["id"],
                 job.get("object"))
        await bulk.abort(job["id"])
        await bulk.delete(job["id"])
    for name in pending:
        await ctx.writer.call(clear_state, name)
    return [job["id"] for job in found]
