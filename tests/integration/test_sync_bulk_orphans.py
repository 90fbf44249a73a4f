"""A Bulk job created by a run killed before the job's id was checkpointed is aborted by the
next run (sync/bulk_orphans.py), found through the demo org's "Get Information About All
Query Jobs"; other tools' and other users' jobs are left alone; the store still equals the org.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smvue_demo_org.bulk_jobs import QueryJob
from smvue_tui.salesforce.bulk import BulkQueries, BulkUnavailable
from smvue_tui.salesforce.errors import ServerUnavailable
from smvue_tui.salesforce.guard import recording
from smvue_tui.store import models as m
from smvue_tui.sync import bulk_orphans, bulk_read
from tests.integration import test_sync_crash as crash_tests
from tests.integration.sync_run import diff, duplicated_tables, sync
from tests.integration.test_sync_bulk import BULK, Crash, jobs_of, policy

db = crash_tests.db  # the store fixture: a fresh store per test

RUNNING = ("UploadComplete", "InProgress")


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _job(jobs, sobject: str, user: str, *, operation: str = "query",
         created: datetime | None = None) -> QueryJob:
    """A job some other client made (never run: it stays UploadComplete)."""
    job = QueryJob(jobs.new_id(), operation, sobject, f"SELECT Id FROM {sobject}", "67.0", user)
    if created is not None:
        job.created = _stamp(created)
    jobs.add(job)
    return job


def _checkpointed_jobs() -> set[str]:
    return {state["job"] for row in m.SyncCursor.select()
            if (state := bulk_read.state_of(row)) is not None}


def _lists(log) -> int:
    return sum(e.method == "GET" and e.path.endswith("/jobs/query") for e in log.entries)


async def test_a_job_created_before_a_kill_is_aborted_by_the_next_run(demo, db, monkeypatch):
    jobs = jobs_of(demo)
    jobs.running.clear()  # jobs stay queued (UploadComplete) while the first run lasts
    real_create, orphans = BulkQueries.create, []

    async def create(self, soql, **kw):
        info = await real_create(self, soql, **kw)
        if " FROM Opportunity" in soql and not orphans:
            orphans.append(info["id"])
            raise Crash  # killed once Salesforce made the job, before its id was saved
        return info

    monkeypatch.setattr(BulkQueries, "create", create)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy())
    orphan = jobs.jobs[orphans[0]]
    orphan.task.cancel()  # a big job still queued on Salesforce's side when the next run starts
    jobs.running.set()
    assert orphan.state in RUNNING and orphan.id not in _checkpointed_jobs()
    # Jobs that are not ours to abort: another user's, made at the same moment on the same
    # object; ours on an object no run was creating a job for; ours, but long before; a
    # queryAll where the run was creating a query job.
    user, now = demo.org.user_id, datetime.now(UTC)
    others = [_job(jobs, "Opportunity", "005" + "9" * 15),
              _job(jobs, "Account", user),
              _job(jobs, "Opportunity", user, created=now - timedelta(hours=2)),
              _job(jobs, "Opportunity", user, operation="queryAll")]
    jobs.list_page = 2  # the list is read through its nextRecordsUrl pages
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    assert report.apis["Opportunity"] == BULK
    assert any(e.method == "PATCH" and e.path.endswith(orphan.id) for e in log.entries)
    assert orphan.state == "Aborted" and orphan.id not in jobs.jobs  # aborted, then deleted
    assert _lists(log) >= 3  # every page
    for job in others:
        assert jobs.jobs.get(job.id) is job and job.state == "UploadComplete", job.object
    assert not any(e.path.endswith(job.id) for job in others for e in log.entries)
    assert diff(demo) == [] and duplicated_tables(db) == []
    assert not [c.sobject for c in m.SyncCursor.select() if c.sobject.startswith("~bulk")]
    with recording() as log:  # nothing left to look for: no list call
        again = await sync(demo, db, "incremental", bulk=policy())
    assert again.status == "ok" and _lists(log) == 0, again.errors


async def test_a_run_that_stopped_cleanly_lists_no_jobs(demo, db):
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok" and report.bulk_jobs > 0, report.errors
    assert _lists(log) == 0


def test_only_a_running_job_of_ours_near_the_intent_is_taken_for_an_orphan():
    creating = "2026-12-01T10:00:00.000+0000"
    pending = {"Task": {"creating": creating, "operation": "query"}}
    user = "005000000000001AAA"
    job = {"id": "750000000000001AAA", "operation": "query", "object": "Task",
           "createdById": user[:15], "createdDate": "2026-12-01T10:00:02.000+0000",
           "state": "InProgress", "concurrencyMode": "Parallel", "contentType": "CSV",
           "apiVersion": 67.0, "jobType": "V2Query", "lineEnding": "LF",
           "columnDelimiter": "COMMA"}
    assert bulk_orphans.ours(job, pending, user, set())  # 15- and 18-char ids are one user
    for change in ({"state": "JobComplete"}, {"object": "Event"}, {"operation": "queryAll"},
                   {"createdById": "005000000000002AAA"}, {"jobType": "V2Ingest"},
                   {"lineEnding": "CRLF"}, {"columnDelimiter": "TAB"},
                   {"createdDate": "2026-12-01T10:11:00.000+0000"},
                   {"createdDate": "2026-12-01T09:49:00.000+0000"}, {"createdDate": "soon"}):
        assert not bulk_orphans.ours(job | change, pending, user, set()), change
    assert not bulk_orphans.ours(job, pending, user, {job["id"]})  # a checkpointed job
    assert not bulk_orphans.ours(job, pending, "", set())  # no user to compare: never


@pytest.mark.parametrize("failure, kept", [
    (ServerUnavailable("ConnectError (gave up after 4 attempts)"), True),  # passing: again
    (BulkUnavailable("insufficient access", code="INSUFFICIENT_ACCESS", status=403), False)])
async def test_a_job_list_that_fails_never_fails_the_sync(demo, db, monkeypatch, failure, kept):
    assert (await sync(demo, db, "initial", bulk=policy())).status == "ok"
    with db.atomic():  # a run killed inside a Task job's create
        bulk_read._save_state("Task", bulk_read.intent(False))

    async def all_jobs(self):
        raise failure
        yield  # an async generator, as the real one

    monkeypatch.setattr(BulkQueries, "all_jobs", all_jobs)
    report = await sync(demo, db, "incremental", bulk=policy())
    assert report.status == "ok", report.errors
    assert (m.SyncCursor.get_or_none(m.SyncCursor.sobject == "~bulk:Task") is not None) is kept
    assert diff(demo) == []
