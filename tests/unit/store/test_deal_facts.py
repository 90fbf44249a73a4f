"""The inspection's per-deal facts (store/deal_facts.py), kept by the writer page by page, equal
a from-scratch recomputation — and an independent one from the raw rows — after random
changes, resyncs (re-sent and older versions), re-related activities, deletes and a prune."""

from __future__ import annotations

import itertools
import json
import random
import statistics
from datetime import UTC, date, datetime

import pytest

from smvue_tui.inspection.report import inspect
from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.inspection_queries import stage_medians
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.scope import prune
from smvue_tui.store.writer import delete_ids, write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

OPP, HIST = SPECS_BY_NAME["Opportunity"], SPECS_BY_NAME["OpportunityHistory"]
TASK, ROLE = SPECS_BY_NAME["Task"], SPECS_BY_NAME["OpportunityContactRole"]
DEALS = [f"0068W{i:010d}AAA" for i in range(12)]
STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won"]
CONTACTS = [f"0038W{i:010d}AAA" for i in range(4)]


@pytest.fixture
def db(tmp_path):
    store = open_store(tmp_path / "s.sqlite3")
    yield store
    store.close()


def _stamp(rnd: random.Random, day: int | None = None) -> str:
    day = rnd.randint(1, 300) if day is None else day
    return (f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{rnd.randint(0, 23):02d}:"
            f"{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}.000+0000")


def _deal(rnd: random.Random, deal: str, stamp: str) -> dict:
    stage = rnd.choice(STAGES)
    return {"Id": deal, "Name": deal, "StageName": stage, "Amount": float(rnd.randrange(1, 9)),
            "CloseDate": f"2027-0{rnd.randint(1, 9)}-15", "OwnerId": rnd.choice(CONTACTS),
            "IsClosed": stage.startswith("Closed"), "IsWon": stage == "Closed Won",
            "SystemModstamp": stamp, "LastModifiedDate": stamp,
            "CreatedDate": "2026-01-01T00:00:00.000+0000"}


def _scramble(db, rnd: random.Random) -> None:
    """Random pages through the writer, as syncs, resyncs and live updates write them."""
    sent: dict[str, list[dict]] = {"hist": [], "task": [], "role": []}
    clock = itertools.count(1)
    for _ in range(160):
        op = rnd.random()
        if op < 0.25:  # deals: new versions (logged changes), re-sent and older ones
            stamp = f"2026-11-01T00:00:{next(clock) % 60:02d}.{next(clock):03d}+0000"
            page = [_deal(rnd, d, stamp) for d in rnd.sample(DEALS, 4)]
            write_page(db, OPP, page)
            if rnd.random() < 0.3:
                old = [{**r, "SystemModstamp": "2026-01-01T00:00:00.000+0000",
                        "Amount": 999.0} for r in page]
                write_page(db, OPP, old)  # older: the upsert and the log both skip it
        elif op < 0.5:  # OpportunityHistory, in any order; resyncs send rows again
            rows = [{"Id": f"0088W{len(sent['hist']) + k:010d}AAA",
                     "OpportunityId": rnd.choice(DEALS), "StageName": rnd.choice(STAGES),
                     "Amount": float(rnd.randrange(1, 5)),
                     "CloseDate": rnd.choice([None, "", "2027-01-15", "2027-03-01", "2027-05-30"]),
                     "CreatedDate": _stamp(rnd), "SystemModstamp": _stamp(rnd)}
                    for k in range(rnd.randint(1, 8))]
            sent["hist"] += rows
            write_page(db, HIST, rows + rnd.sample(sent["hist"], min(3, len(sent["hist"]))))
        elif op < 0.7:  # tasks: new, re-dated or re-related to another deal (or an account)
            rows = []
            for _ in range(rnd.randint(1, 5)):
                ident = (rnd.choice(sent["task"])["Id"] if sent["task"] and rnd.random() < 0.4
                         else f"00T8W{len(sent['task']) + len(rows):010d}AAA")
                rows.append({"Id": ident, "Subject": "t",
                             "WhatId": rnd.choice([*DEALS, "0018W0000000001AAA"]),
                             "ActivityDate": rnd.choice(
                                 [None, f"2026-{rnd.randint(1, 12):02d}-10"]),
                             "SystemModstamp": f"2026-11-02T00:00:00.{next(clock):03d}+0000"})
            sent["task"] += rows
            write_page(db, TASK, rows)
        elif op < 0.85:  # contact roles: new, primary or contact changed
            rows = []
            for _ in range(rnd.randint(1, 4)):
                ident = (rnd.choice(sent["role"])["Id"] if sent["role"] and rnd.random() < 0.4
                         else f"00K8W{len(sent['role']) + len(rows):010d}AAA")
                rows.append({"Id": ident, "OpportunityId": rnd.choice(DEALS),
                             "ContactId": rnd.choice([*CONTACTS, None]),
                             "IsPrimary": rnd.random() < 0.3,
                             "SystemModstamp": f"2026-11-03T00:00:00.{next(clock):03d}+0000"})
            sent["role"] += rows
            write_page(db, ROLE, rows)
        elif op < 0.97:  # deletes seen by a sync or a live update
            kind, spec = rnd.choice([("hist", HIST), ("task", TASK), ("role", ROLE)])
            if sent[kind]:
                gone = [r["Id"] for r in rnd.sample(sent[kind], min(3, len(sent[kind])))]
                with db.atomic():
                    delete_ids(spec, gone)
        else:  # a deal leaves the store, and the prune takes its children
            with db.atomic():
                delete_ids(OPP, [rnd.choice(DEALS)])
            prune(db, Lookbacks(), date(2026, 11, 15))


def _snapshot() -> tuple[list, list]:
    facts = sorted(tuple(f.__data__.items()) for f in m.DealFact.select()
                   if any(v not in (None, 0, False) for k, v in f.__data__.items()
                          if k != "deal_id"))
    stints = sorted((s.deal_id, s.source, s.stage or "", s.days) for s in m.StageStint.select())
    return facts, stints


def _independent_history() -> tuple[dict, dict, dict]:
    """Current stints, finished stint days and pushes straight from OpportunityHistory, with
    SQLite's julianday as the report's window query used to."""
    rows = m.StageHistory._meta.database.execute_sql(
        'SELECT "_ParentId", "StageName", "CreatedDate", julianday(substr("CreatedDate", 1, 19)), '
        '"CloseDate" FROM stage_history WHERE "_sobject" = \'OpportunityHistory\' '
        'ORDER BY "_ParentId", "CreatedDate", "Id"').fetchall()
    current, done, pushes = {}, {}, {}
    for deal, group in itertools.groupby(rows, key=lambda r: r[0]):
        group = list(group)
        stage, since, day = group[0][1], group[0][2], group[0][3]
        for row in group[1:]:
            if row[1] != stage:
                done.setdefault(stage, []).append(row[3] - day)
                stage, since, day = row[1], row[2], row[3]
        current[deal] = (stage, since)
        moves = [(a[4], b[4]) for a, b in itertools.pairwise(group)
                 if a[4] != b[4] and a[4] and b[4]]
        pushes[deal] = sum(1 for a, b in moves if b > a)
    return current, {s: statistics.median(d) for s, d in done.items()}, pushes


@pytest.mark.parametrize(("seed", "defer_at"), [(1, 200), (2, 200), (3, 200), (4, 200),
                                               (5, 2), (6, 3)])
def test_kept_facts_equal_a_recomputation_after_random_pages(db, seed, defer_at, monkeypatch):
    """With ``defer_at`` 2 or 3 most pages leave their kind of fact to ``catch_up``."""
    monkeypatch.setattr(deal_facts, "DEFER_AT", defer_at)
    _scramble(db, random.Random(seed))
    with db.atomic():
        caught_up = deal_facts.catch_up()
    assert bool(caught_up) == (defer_at < 200)
    kept = _snapshot()
    assert kept[0] and kept[1]  # the scramble made facts of every kind to compare
    with db.atomic():
        deal_facts.rebuild()
    assert _snapshot() == kept

    current, medians, pushes = _independent_history()
    facts = {f.deal_id: f for f in m.DealFact.select()}
    assert {d: (f.h_stage, f.h_since) for d, f in facts.items() if f.h_since} == current
    assert {d: f.h_pushes for d, f in facts.items() if f.h_since} == pushes
    assert stage_medians(deal_facts.HISTORY, 1) == medians

    sql = m.Activity._meta.database.execute_sql
    last = dict(sql('SELECT "WhatId", MAX(substr("_OccurredAt", 1, 10)) FROM activity '
                    'GROUP BY "WhatId"').fetchall())
    assert {d: f.last_activity for d, f in facts.items() if f.last_activity} == \
        {d: v for d, v in last.items() if v}
    roles = {r[0]: (r[1], bool(r[2])) for r in sql(
        'SELECT "OpportunityId", COUNT(DISTINCT "ContactId"), MAX(COALESCE("IsPrimary", 0)) '
        'FROM opportunity_contact_role GROUP BY "OpportunityId"')}
    assert {d: (f.contacts, f.has_primary) for d, f in facts.items()
            if f.contacts or f.has_primary} == {d: v for d, v in roles.items() if any(v)}


def test_log_facts_follow_the_change_log(db):
    stamps = [f"2026-11-0{k}T10:00:00.000+0000" for k in range(1, 6)]
    base = {"Id": DEALS[0], "Name": "x", "Amount": 1.0, "OwnerId": CONTACTS[0],
            "IsClosed": False, "IsWon": False}
    for stamp, stage, close in zip(stamps, ["Prospecting", "Proposal", "Proposal",
                                            "Qualification", "Negotiation"],
                                   ["2027-01-01", "2027-02-01", "2027-01-15", "2027-03-01",
                                    "2027-03-01"], strict=True):
        write_page(db, OPP, [{**base, "StageName": stage, "CloseDate": close,
                              "SystemModstamp": stamp, "LastModifiedDate": stamp}])
    fact = m.DealFact.get_by_id(DEALS[0])
    assert (fact.l_stage, fact.l_since, fact.l_pushes) == ("Negotiation", stamps[4], 2)
    assert json.loads(fact.l_push_dates) == ["2027-01-01", "2027-02-01", "2027-01-15",
                                             "2027-03-01"]
    stints = sorted((s.stage, s.days) for s in m.StageStint.select())
    assert stints == [("Proposal", 2.0), ("Qualification", 1.0)]


_COPIED = (m.Opportunity, m.StageHistory, m.Activity, m.OpportunityContactRole, m.DealChange,
           m.OpportunityStage, m.ObjectPlan, m.SyncCursor, m.SyncRun)
NOW = datetime(2026, 11, 20, tzinfo=UTC)
SETTINGS = {"inspection": {"min_stage_samples": 1}}


@pytest.fixture
def scrambled_on_sqlite(tmp_path) -> tuple[dict, dict]:
    """A store scrambled through the writer on SQLite: its rows and its report."""
    store = open_store(tmp_path / "lite.sqlite3")
    try:
        _scramble(store, random.Random(7))
        m.OpportunityStage.insert_many([
            {"id": f"01J8W{i:010d}AAA", "api_name": s, "master_label": s, "sort_order": i,
             "is_closed": s.startswith("Closed"), "is_won": s == "Closed Won"}
            for i, s in enumerate(STAGES)]).execute()
        m.ObjectPlan.create(sobject="OpportunityHistory", available=True, fields=json.dumps(
            ["Id", "StageName", "Amount", "CloseDate", "CreatedDate"]))
        m.SyncCursor.create(sobject="OpportunityHistory", initial_done=True)
        m.SyncRun.create(kind="initial", status="ok", started_at="2026-01-01T00:00:00+00:00")
        rows = {model: list(model.select().dicts()) for model in _COPIED}
        return rows, inspect(SETTINGS, since="30d", now=NOW)
    finally:
        store.close()


def test_the_facts_and_the_report_are_the_same_on_every_backend(store_backend, tmp_path,
                                                                 scrambled_on_sqlite):
    """The facts' recomputation and the report's queries are portable SQL (issue 18): the
    same rows give the same facts and the same report on SQLite and on PostgreSQL."""
    rows, expected = scrambled_on_sqlite
    store = store_backend.open(tmp_path / "s.sqlite3")
    try:
        with store.atomic():
            for model, found in rows.items():
                if found:
                    model.insert_many(found).execute()
            deal_facts.rebuild()
        report = inspect(SETTINGS, since="30d", now=NOW)
    finally:
        store.close()
    assert expected["flags"]["counts"]["pushed"] and expected["changes"]["deals"]
    assert report == expected
