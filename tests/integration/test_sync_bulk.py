"""Initial syncs by Bulk API 2.0 against the demo org over loopback: the store equals the org
field by field; failed jobs and objects Bulk refuses fall back to REST; results are paged by
locator; a run that dies mid-download resumes the same job from the page it reached; queryAll
jobs see deleted rows; incremental runs stay on REST.

The threshold is lowered to 100 rows so the 300-deal test org has objects on both sides of it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import pytest

from smvue_demo_org.bulk_jobs import EXTRA_KEY
from smvue_demo_org.gen_support import sf_datetime
from smvue_tui.salesforce import bulk_csv
from smvue_tui.salesforce.bulk import BulkQueries
from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.errors import ServerUnavailable
from smvue_tui.salesforce.guard import recording
from smvue_tui.store import field_mapping
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync import bulk_choice, bulk_read
from smvue_tui.sync.bulk_read import BulkPolicy
from tests.integration import test_sync_crash as crash_tests
from tests.integration.sync_run import diff, duplicated_tables, sync
from tests.integration.sync_support import client_for
from tests.integration.test_sync_crash import Child

BULK = "Bulk API 2.0"
db = crash_tests.db  # the store fixture: a fresh store per test


def checkpointed_job(sobject: str) -> dict | None:
    """The unfinished Bulk job of ``sobject`` as its checkpoint row in the store holds it."""
    return bulk_read.state_of(m.SyncCursor.get_or_none(
        m.SyncCursor.sobject == bulk_read.state_key(sobject)))


def policy(**kw) -> BulkPolicy:
    return BulkPolicy(**{"threshold": 100, "poll_first": 0.01, **kw})


def jobs_of(running):
    return running.org.extras[EXTRA_KEY]


def deal_ids(running, where: str) -> list[str]:
    """The org's Opportunity Ids matching ``where`` (SQL on the demo org's store), in order."""
    conn = running.org.store.reader()
    try:
        return [r[0] for r in conn.execute(f"SELECT Id FROM Opportunity WHERE {where} ORDER BY Id")]
    finally:
        conn.close()


def results_reads(log, job_id: str = "") -> int:
    return sum(1 for e in log.entries
               if e.path.endswith("/results") and job_id in e.path)


async def test_bulk_initial_then_rest_incremental_equal_the_org(demo, db):
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    by_bulk = {name for name, api in report.apis.items() if api == BULK}
    assert {"Opportunity", "OpportunityHistory", "Task", "Contact"} <= by_bulk
    assert report.apis["AccountTeamMember"].startswith("REST (")  # under the threshold
    assert report.bulk_jobs == len(by_bulk)
    assert sum(e.method == "POST" and e.path.endswith("/jobs/query")
               for e in log.entries) == len(by_bulk)
    assert sum(e.method == "DELETE" for e in log.entries) == len(by_bulk)  # jobs cleaned up
    assert jobs_of(demo).jobs == {}
    assert diff(demo) == [] and duplicated_tables(db) == []
    assert not [c.sobject for c in m.SyncCursor.select() if c.sobject.startswith("~bulk")]
    # Random changes (edits, new rows, deletes), then an incremental: REST only, no job.
    demo.admin("POST", "/mutate", json={"count": 300}).raise_for_status()
    created_before = jobs_of(demo).daily.used
    with recording() as log:
        again = await sync(demo, db, "incremental", bulk=policy())
    assert again.status == "ok", again.errors
    assert again.bulk_jobs == 0 and not any("/jobs/" in e.path for e in log.entries)
    assert jobs_of(demo).daily.used == created_before
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_bulk_objects_are_described_once_by_the_plan(demo, db):
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    described = [e.path.split("/")[-2] for e in log.entries if e.path.endswith("/describe")]
    assert "Opportunity" in {n for n, api in report.apis.items() if api == BULK}
    assert sorted(described) == sorted(set(described))  # the plan's describe, not again
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_results_are_paged_by_locator_with_progress_as_rest(demo, db):
    events = []
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy(max_records=37),
                            progress=events.append)
    assert report.status == "ok", report.errors
    deals = m.Opportunity.select().count()
    assert report.apis["Opportunity"] == BULK and deals > 37 * 3
    pages = results_reads(log)
    assert pages >= deals // 37 + report.bulk_jobs  # every object in pages of 37
    # progress bars as for REST: a total from the job, counts per page, a rate, an ETA
    bars = [e for e in events if e.sobject == "Opportunity"]
    running = [e for e in bars if e.phase == "running"]
    assert len(running) >= deals // 37 and {e.total for e in running} == {deals}
    assert [e.done for e in running] == sorted(e.done for e in running)
    assert running[-1].done == deals and any(e.eta_s is not None for e in running)
    assert all(e.records_per_s > 0 for e in running) and bars[-1].phase == "done"
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_a_failed_job_falls_back_to_rest(demo, db):
    jobs_of(demo).fail_with = "InternalServerError: retried more than 15 times"
    report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    assert report.apis["Opportunity"] == "REST (Bulk failed: BULK_JOB_FAILED)"
    assert report.bulk_jobs >= 5 and jobs_of(demo).jobs == {}  # the failed jobs deleted
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_objects_bulk_does_not_support_are_read_by_rest(demo, db):
    jobs_of(demo).unsupported |= {"Opportunity", "Task"}
    report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    assert report.apis["Opportunity"] == "REST (Bulk failed: INVALIDENTITY)"
    assert report.apis["Task"] == "REST (Bulk failed: INVALIDENTITY)"
    assert report.apis["OpportunityHistory"] == BULK
    assert diff(demo) == [] and duplicated_tables(db) == []


class Crash(Exception):
    """Stands in for the process dying between two result pages."""


def die_after(monkeypatch, sobject: str, pages: int) -> dict[str, int]:
    """Make the sync die when ``sobject``'s next result page would be stored after ``pages``
    of them; returns the records written per object (counting on after the crash)."""
    real = bulk_read.write_page
    written: dict[str, int] = {}
    left = {sobject: pages}

    async def counting(ctx, spec, records, cursor=None, **kw):
        if spec.sobject in left and kw.get("extra"):  # a page's last batch
            if left[spec.sobject] == 0:
                del left[spec.sobject]  # once: the next run goes through
                raise Crash
            left[spec.sobject] -= 1
        written[spec.sobject] = written.get(spec.sobject, 0) + len(records)
        return await real(ctx, spec, records, cursor, **kw)

    monkeypatch.setattr(bulk_read, "write_page", counting)
    return written


async def test_a_run_dying_mid_download_resumes_the_same_job(demo, db, monkeypatch):
    written = die_after(monkeypatch, "Opportunity", 2)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy(max_records=40))
    state = checkpointed_job("Opportunity")
    assert state is not None and state["read"] == 80 and state["locator"] not in ("", "null")
    first = written["Opportunity"]
    assert first == 80

    created: list[str] = []
    real_create = BulkQueries.create

    async def create(self, soql, **kw):
        created.append(soql.split(" FROM ")[1].split()[0])
        return await real_create(self, soql, **kw)

    monkeypatch.setattr(BulkQueries, "create", create)
    written.clear()
    with recording() as log:
        report = await sync(demo, db, "initial", bulk=policy(max_records=40))
    assert report.status == "ok", report.errors
    assert "Opportunity" not in created  # the finished job was read on, not run again
    assert results_reads(log, state["job"]) >= 1
    total = m.Opportunity.select().count()
    assert written["Opportunity"] == total - first  # from the saved page on: nothing re-read
    assert checkpointed_job("Opportunity") is None and jobs_of(demo).jobs == {}
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_a_job_gone_before_resume_falls_back_to_rest_from_the_cursor(demo, db,
                                                                          monkeypatch):
    die_after(monkeypatch, "OpportunityHistory", 1)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy(max_records=50))
    jobs_of(demo).jobs.clear()  # Salesforce dropped it (7 days) or someone deleted it
    report = await sync(demo, db, "initial", bulk=policy(max_records=50))
    assert report.status == "ok", report.errors
    assert report.apis["OpportunityHistory"].startswith("REST (Bulk failed:")
    assert diff(demo) == [] and duplicated_tables(db) == []


async def crash_with_a_task_job_waiting(demo, db, monkeypatch) -> str:
    die_after(monkeypatch, "Task", 1)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy(max_records=50))
    job = checkpointed_job("Task")["job"]
    assert job in jobs_of(demo).jobs
    return job


async def test_bulk_turned_off_after_a_crash_deletes_the_waiting_job(demo, db, monkeypatch):
    job = await crash_with_a_task_job_waiting(demo, db, monkeypatch)
    report = await sync(demo, db, "initial", bulk=policy(enabled=False))
    assert report.status == "ok" and report.bulk_jobs == 0, report.errors
    assert checkpointed_job("Task") is None and job not in jobs_of(demo).jobs
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_query_all_jobs_include_deleted_rows(demo):
    victims = deal_ids(demo, "IsDeleted = 0")[:3]
    for record_id in victims:
        demo.admin("DELETE", f"/records/Opportunity/{record_id}").raise_for_status()
    types = {"Id": "id", "IsDeleted": "boolean"}
    soql = "SELECT Id, IsDeleted FROM Opportunity ORDER BY Id"
    async with client_for(demo) as client:
        bulk = BulkQueries(client, poll_first=0.01)
        seen = {}
        for include_deleted in (False, True):
            job = (await bulk.create(soql, include_deleted=include_deleted))["id"]
            await bulk.wait(job)
            seen[include_deleted] = {r["Id"]: r["IsDeleted"]
                                     async for page in bulk.pages(job, types)
                                     for r in page.records}
            await bulk.delete(job)
    assert not set(victims) & set(seen[False]) and not any(seen[False].values())
    assert {i: seen[True][i] for i in victims} == dict.fromkeys(victims, True)
    assert set(seen[True]) - set(victims) == set(seen[False])
    assert jobs_of(demo).jobs == {}


def test_the_threshold_and_switch_come_from_config_toml(tmp_path):
    from smvue_tui.config import ConfigError, app_paths, read_config
    from smvue_tui.sync.runner import run_config

    path = app_paths().config_file
    path.parent.mkdir(parents=True)
    assert read_config(path) == {} and bulk_read.policy_from({}) == BulkPolicy()  # no file
    path.write_text("[sync]\nbulk = false\nbulk_threshold = 50000\n")
    assert bulk_read.policy_from(read_config(path)) == BulkPolicy(enabled=False,
                                                                  threshold=50_000)
    path.write_text("[sync]\nbulk_threshold = 'lots'\n")
    assert bulk_read.policy_from(read_config(path)) == BulkPolicy()  # unusable: default, logged
    path.write_text("[sync\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):  # a command refuses
        read_config(path)
    assert run_config(app_paths()) == {}  # the app's sync child: the defaults, logged
    with pytest.raises(ValueError, match="whole number of rows"):
        BulkPolicy.from_config({"sync": {"bulk_threshold": 0}})


async def test_bulk_off_reads_everything_by_rest(demo, db):
    report = await sync(demo, db, "initial", bulk=policy(enabled=False))
    assert report.status == "ok" and report.bulk_jobs == 0 and report.apis == {}
    assert diff(demo) == []



def test_a_sync_process_killed_mid_download_resumes_its_jobs(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNC_CHILD_BULK_THRESHOLD", "100")
    store = tmp_path / "store.sqlite3"
    started: list[Child] = []
    waiting_jobs: set[str] = set()  # job ids a killed run left in its checkpoints
    try:
        for pages in (4, 9):
            child = Child(demo, store)
            started.append(child)
            assert child.kill_after(pages), "the sync finished before it could be killed"
            db = open_store(store)
            try:
                waiting_jobs |= {state["job"] for c in m.SyncCursor.select()
                                 if c.sobject.startswith("~bulk:")
                                 and (state := bulk_read.state_of(c)) is not None}
            finally:
                db.close()
        final = Child(demo, store)
        started.append(final)
        assert final.finish() == "ok"
    finally:
        for child in started:
            child.close()
    assert waiting_jobs, "no Bulk job was left mid-download by a kill"
    db = open_store(store)
    try:
        assert diff(demo) == [] and duplicated_tables(db) == []
        assert not [c.sobject for c in m.SyncCursor.select() if c.sobject.startswith("~bulk")]
    finally:
        db.close()
    # The resumed jobs were deleted once read; one a kill caught between its create and its
    # checkpoint was aborted if still running (bulk_orphans), a finished one is left to
    # Salesforce's 7-day clean-up.
    assert not waiting_jobs & set(jobs_of(demo).jobs)
    assert not [j.id for j in jobs_of(demo).jobs.values()
                if j.state in ("UploadComplete", "InProgress")]


async def test_a_large_incremental_backlog_is_read_by_a_query_all_job(demo, db, monkeypatch):
    assert (await sync(demo, db, "initial", bulk=policy(enabled=False))).status == "ok"
    httpx.post(f"{demo.base_url}/demo/mutate", json={"count": 6000},  # >2,000 histories
               timeout=300).raise_for_status()  # slow on a loaded machine
    deals = [h.parent_id for h in m.StageHistory.select().order_by(m.StageHistory.id).limit(3)]
    history = {h.id for h in m.StageHistory.select().where(m.StageHistory.parent_id.in_(deals))}
    for deal in set(deals):  # deleting a deal deletes its stage history: at the backlog's end
        demo.admin("DELETE", f"/records/Opportunity/{deal}").raise_for_status()
    real_create, created, removed_by_job = BulkQueries.create, [], []

    async def create(self, soql, **kw):
        created.append((soql, kw.get("include_deleted")))
        return await real_create(self, soql, **kw)

    real_delete = bulk_read.delete_rows

    def delete(spec, ids):  # what the job's deleted rows removed (apply_deletes runs later)
        removed_by_job.extend(ids)
        return real_delete(spec, ids)

    monkeypatch.setattr(BulkQueries, "create", create)
    monkeypatch.setattr(bulk_read, "delete_rows", delete)
    with recording() as log:
        report = await sync(demo, db, "incremental", bulk=policy())
    assert report.status == "ok", report.errors
    assert any(" IsDeleted FROM OpportunityHistory " in soql and deleted
               for soql, deleted in created)
    assert history <= set(removed_by_job)
    by_bulk = [n for n, api in report.apis.items() if api == "Bulk API 2.0 (queryAll)"]
    assert "OpportunityHistory" in by_bulk and report.bulk_jobs == len(by_bulk)
    # the deleted rows came in the job (queryAll) and were removed as they came
    assert report.removed.get("OpportunityHistory", 0) >= len(history) > 0
    assert not m.StageHistory.select().where(m.StageHistory.id.in_(list(history))).exists()
    assert any(e.method == "POST" and e.path.endswith("/jobs/query") for e in log.entries)
    assert diff(demo) == [] and duplicated_tables(db) == []
    assert jobs_of(demo).jobs == {}


async def test_a_field_mapped_after_a_crash_is_read_into_every_deal(demo, db, monkeypatch):
    # The waiting job selects the old fields: resuming it would mark deals read without the
    # newly mapped field's values. It is dropped and deals are read again with the field.
    die_after(monkeypatch, "Opportunity", 2)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy(max_records=40))
    stale = checkpointed_job("Opportunity")["job"]
    with db.atomic():
        assert field_mapping.set_enabled("Seats__c", "Seats", "double", True)
    report = await sync(demo, db, "initial", bulk=policy(max_records=40))
    assert report.status == "ok", report.errors
    conn = demo.org.store.reader()
    try:
        org = dict(conn.execute("SELECT Id, Seats__c FROM Opportunity WHERE IsDeleted = 0"))
    finally:
        conn.close()
    stored = {o.id: json.loads(o.custom_fields).get("Seats__c", "missing")
              for o in m.Opportunity.select()}
    assert any(v is not None for v in org.values())
    assert stored == {i: org[i] for i in stored} and len(stored) > 80
    assert stale not in jobs_of(demo).jobs and jobs_of(demo).jobs == {}


async def test_a_full_sync_after_a_crash_deletes_the_waiting_job(demo, db, monkeypatch):
    stale = await crash_with_a_task_job_waiting(demo, db, monkeypatch)
    report = await sync(demo, db, "full", bulk=policy(max_records=50))
    assert report.status == "ok", report.errors
    assert stale not in jobs_of(demo).jobs and jobs_of(demo).jobs == {}
    assert not [c.sobject for c in m.SyncCursor.select() if c.sobject.startswith("~bulk")]
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_results_it_cannot_read_fall_back_to_rest_without_a_stuck_job(demo, db, monkeypatch):
    # A value the CSV reader does not understand (here every percent) must not leave the job
    # waiting, to fail at the same page on every later run: REST reads the object instead.
    def unreadable(text: str) -> float:
        raise ValueError(f"not a percent: {text!r}")

    monkeypatch.setitem(bulk_csv._CONVERTERS, "percent", unreadable)
    report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    assert report.apis["Opportunity"] == "REST (Bulk failed: BAD_BULK_CSV)"
    assert checkpointed_job("Opportunity") is None and jobs_of(demo).jobs == {}
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_every_job_is_in_flight_at_once_beside_rest_reads_with_downloads_bounded(
        demo, db, monkeypatch):
    # Salesforce runs query jobs on its side; here a waiting job holds nothing. So every job
    # is created at once and REST reads run beside them, while the jobs whose pages are being
    # parsed and stored stay within BulkPolicy.downloads. Before, four jobs took the four
    # lanes: the others' jobs and every REST read waited for one to be downloaded.
    chosen: dict[str, list[str]] = {}
    real_choosing, run_ctx = bulk_choice.choosing, {}

    def choosing(ctx, specs, wheres, small):
        run_ctx.update(ctx=ctx, specs=specs)
        return real_choosing(ctx, specs, wheres, small)

    def choices_made() -> bool:
        ctx = run_ctx.get("ctx")
        if ctx is None or not all(f.done() for f in ctx.bulk_chosen.values()):
            return False
        chosen["bulk"] = list(ctx.bulk_types)
        chosen["rest"] = [s.sobject for s in run_ctx["specs"] if s.sobject not in ctx.bulk_types]
        return True

    real_pages, reading, peak = BulkQueries.pages, set(), set()

    async def pages(self, job_id, *args, **kw):  # the jobs whose results are being read
        reading.add(job_id)
        peak.add(len(reading))
        try:
            async for page in real_pages(self, job_id, *args, **kw):
                yield page
        finally:
            reading.discard(job_id)

    real_composite, asking, together = SalesforceClient.composite, [0], set()

    async def composite(self, subrequests, **kw):  # the COUNT() calls, sent at once
        counts = any("COUNT%28%29" in sub.get("url", "") for sub in subrequests)
        asking[0] += counts
        together.add(asking[0])
        try:
            return await real_composite(self, subrequests, **kw)
        finally:
            asking[0] -= counts

    monkeypatch.setattr(bulk_choice, "choosing", choosing)
    monkeypatch.setattr(BulkQueries, "pages", pages)
    monkeypatch.setattr(SalesforceClient, "composite", composite)
    jobs = jobs_of(demo)
    jobs.running.clear()  # every job waits in UploadComplete until released
    run = asyncio.ensure_future(sync(demo, db, "initial", bulk=policy(
        max_records=20, downloads=2, poll_max=0.05)))
    try:
        for _ in range(600):  # up to a minute on a loaded machine
            await asyncio.sleep(0.1)
            assert not run.done(), run.result().errors
            done = {c.sobject for c in m.SyncCursor.select().where(m.SyncCursor.initial_done)}
            if choices_made() and len(jobs.jobs) == len(chosen["bulk"]) \
                    and set(chosen["rest"]) <= done:
                break
        else:
            pytest.fail(f"jobs {len(jobs.jobs)} of {len(chosen.get('bulk', []))}; REST "
                        f"reads not done: {set(chosen.get('rest', [])) - done}")
        assert len(chosen["bulk"]) >= 5 and chosen["rest"]
        assert {j.state for j in jobs.jobs.values()} == {"UploadComplete"}  # none ran yet
        assert not reading
    finally:
        jobs.running.set()
    report = await run
    assert report.status == "ok", report.errors
    assert report.bulk_jobs == len(chosen["bulk"]) and jobs.jobs == {}
    assert max(peak) <= 2 < len(chosen["bulk"])  # downloads bounded
    assert max(together) >= 2  # the COUNT() composites were in flight together
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_jobs_start_while_other_objects_are_still_counted(demo, db, monkeypatch):
    # The biggest objects are counted first (five COUNT()s per /composite call); their jobs
    # need not wait for the other groups' answers. Here the group counting Lead is held until
    # a job exists: before, every count came first and the held call timed out.
    real_create, real_composite, created = BulkQueries.create, SalesforceClient.composite, []
    job_made, held = asyncio.Event(), []

    async def create(self, soql, **kw):
        info = await real_create(self, soql, **kw)
        created.append(soql.split(" FROM ")[1].split()[0])
        job_made.set()
        return info

    async def composite(self, subrequests, **kw):
        urls = [sub.get("url", "") for sub in subrequests]
        if any(re.fullmatch(r"query\?q=SELECT%20COUNT%28%29%20FROM%20Lead(%20.*)?", u)
               for u in urls):
            try:
                await asyncio.wait_for(job_made.wait(), 30)
                held.append(list(created))
            except TimeoutError:
                held.append(None)
        return await real_composite(self, subrequests, **kw)

    monkeypatch.setattr(BulkQueries, "create", create)
    monkeypatch.setattr(SalesforceClient, "composite", composite)
    report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok", report.errors
    assert held and held[0], "no job was created while Lead's group was still being counted"
    assert set(held[0]) <= {"OpportunityHistory", "Opportunity", "Task", "Event", "Contact"}
    assert report.apis["Lead"] == BULK and "Lead" not in held[0]
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_jobs_are_unordered_and_move_the_cursor_with_their_last_page(demo, db,
                                                                           monkeypatch):
    # "Use of ORDER BY in a Bulk 2.0 query disables PKChunking" (Bulk API 2.0 guide,
    # Troubleshooting Query Timeouts): jobs read in no order, so a page says nothing of where
    # the object's cursor stands; the greatest (SystemModstamp, Id) rides in the checkpoint
    # and becomes the cursor with the job's last page.
    real_create, created = BulkQueries.create, []

    async def create(self, soql, **kw):
        created.append(soql)
        return await real_create(self, soql, **kw)

    monkeypatch.setattr(BulkQueries, "create", create)
    die_after(monkeypatch, "Opportunity", 2)
    with pytest.raises(Crash):
        await sync(demo, db, "initial", bulk=policy(max_records=40))
    assert created and not [q for q in created if " ORDER BY " in q]
    cursor = m.SyncCursor.get_or_none(m.SyncCursor.sobject == "Opportunity")
    assert cursor is None or cursor.watermark is None  # not moved by a page of the job
    state = checkpointed_job("Opportunity")
    stored = [(o.system_modstamp, o.id) for o in m.Opportunity.select()]
    assert state["read"] == len(stored) == 80 and tuple(state["top"]) == max(stored)
    report = await sync(demo, db, "initial", bulk=policy(max_records=40))
    assert report.status == "ok", report.errors
    cursor = m.SyncCursor.get(m.SyncCursor.sobject == "Opportunity")
    assert (cursor.watermark, cursor.watermark_id) == max(
        (o.system_modstamp, o.id) for o in m.Opportunity.select())
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_a_row_changed_in_a_chunk_already_read_is_not_missed_by_the_next_run(demo, db):
    # A job without ORDER BY is PK-chunked: its Id ranges run one after another, so its rows
    # are no snapshot. A deal in the first range changed after that range ran has an older
    # SystemModstamp than a deal changed later, before the second range ran (ten minutes on,
    # past the incremental run's 5-minute overlap: big jobs run that long). With the object's
    # cursor at the greatest (SystemModstamp, Id) the job gave, the next incremental run asks
    # for rows after that and never sees the first deal's change; the ordered job of before
    # was one snapshot, no row of it newer than the job.
    open_ids = deal_ids(demo, "IsDeleted = 0 AND IsClosed = 0")
    first, last = open_ids[0], open_ids[-1]  # open deals are in scope: first range, last range
    jobs, changed = jobs_of(demo), []

    async def between_chunks(job, n):
        if job.sobject == "Opportunity" and n == 1:
            store = demo.org.store  # the first deal's range was read, the last's is not
            store.update("Opportunity", first, {"Name": f"changed mid-job {first}"})
            store._last_stamp = sf_datetime(time.time() + 600)  # ten minutes later
            store.update("Opportunity", last, {"Name": f"changed mid-job {last}"})
            changed.extend((first, last))

    jobs.chunk_rows, jobs.between_chunks = 100, between_chunks
    report = await sync(demo, db, "initial", bulk=policy())
    assert report.status == "ok" and report.apis["Opportunity"] == BULK, report.errors
    assert changed == [first, last]
    assert m.Opportunity.get_by_id(last).name == f"changed mid-job {last}"
    assert m.Opportunity.get_by_id(first).name != f"changed mid-job {first}"  # read before
    again = await sync(demo, db, "incremental", bulk=policy())
    assert again.status == "ok", again.errors
    assert m.Opportunity.get_by_id(first).name == f"changed mid-job {first}"
    assert diff(demo) == [] and duplicated_tables(db) == []


async def test_a_count_call_failing_cancels_the_other_count_calls(demo, db, monkeypatch):
    # COUNT() groups go out at once. When one fails the run stops; the others must be
    # cancelled with it, not left running after the run returned (on a client it has closed).
    held, outcome = asyncio.Event(), []
    real_composite = SalesforceClient.composite

    async def composite(self, subrequests, **kw):
        urls = " ".join(sub.get("url", "") for sub in subrequests)
        if "COUNT%28%29%20FROM%20Lead" in urls:
            await asyncio.sleep(0.2)  # the first group is waiting by now
            raise ServerUnavailable("ConnectError (gave up after 4 attempts)")
        if "COUNT%28%29%20FROM%20Opportunity" in urls:
            try:
                await held.wait()  # an answer that has not come yet
                outcome.append("answered")
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise
        return await real_composite(self, subrequests, **kw)

    monkeypatch.setattr(SalesforceClient, "composite", composite)
    try:
        report = await sync(demo, db, "initial", bulk=policy())
        assert report.status == "failed"
        await asyncio.sleep(0)
        assert outcome and set(outcome) == {"cancelled"}, "a COUNT() call outlived the run"
    finally:
        held.set()
        await asyncio.sleep(0.05)
