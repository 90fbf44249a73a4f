"""Simulated activity: a realistic mix of changes that always moves SystemModstamp."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from smvue_demo_org.activity import apply_random_changes, run_activity
from smvue_demo_org.derived import STAGES
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.store import Change, OrgStore


@pytest.fixture
def store(tmp_path):
    s = OrgStore.open(tmp_path, 200, 1, OrgProfile())
    yield s
    s.close()


def test_change_mix(store):
    mark = store.now()
    heard: list[Change] = []
    store.add_listener(heard.append)
    changes = apply_random_changes(store, random.Random(7), 300)
    assert changes == heard  # what listeners heard is what is returned
    kinds = Counter((c.sobject, c.kind) for c in changes)
    for expected in [("Opportunity", "update"), ("Opportunity", "create"),
                     ("Opportunity", "delete"), ("OpportunityHistory", "create"),
                     ("Task", "create"), ("Event", "create"), ("Contact", "create"),
                     ("Account", "create")]:
        assert kinds[expected] > 0, expected
    assert all(c.modstamp >= mark for c in changes)
    deleted = {c.id for c in changes if c.kind == "delete"}
    updated = {c.id for c in changes if c.sobject == "Opportunity"} - deleted
    moved = set(store.updated_ids("Opportunity", mark, "2999-01-01T00:00:00.000+0000"))
    assert updated == moved
    won = store.select("SELECT COUNT(*) n FROM Opportunity WHERE IsWon = 1 AND "
                       "LastModifiedDate >= ?", (mark,))[0]["n"]
    lost = store.select("SELECT COUNT(*) n FROM Opportunity WHERE StageName = 'Closed Lost' "
                        "AND LastModifiedDate >= ?", (mark,))[0]["n"]
    assert won > 0 and lost > 0
    owners = store.select("SELECT COUNT(*) n FROM OpportunityFieldHistory WHERE "
                          "Field = 'OwnerId' AND CreatedDate >= ?", (mark,))[0]["n"]
    assert owners > 0


def test_changes_keep_the_org_consistent(store):
    apply_random_changes(store, random.Random(3), 200)
    for opp in store.select("SELECT * FROM Opportunity WHERE IsDeleted = 0"):
        _, closed, won, _ = STAGES[opp["StageName"]]
        assert (opp["IsClosed"], opp["IsWon"]) == (int(closed), int(won))
        assert opp["CreatedDate"] <= opp["LastModifiedDate"] <= opp["SystemModstamp"]
    assert store.select("SELECT COUNT(*) n FROM Opportunity o WHERE OwnerId NOT IN "
                        "(SELECT Id FROM User)")[0]["n"] == 0
    # new deals got their first history row
    bare = store.select("SELECT COUNT(*) n FROM Opportunity o WHERE NOT EXISTS (SELECT 1 FROM "
                        "OpportunityHistory h WHERE h.OpportunityId = o.Id)")[0]["n"]
    assert bare == 0


def test_same_seed_same_choices(tmp_path):
    runs = []
    for name in ("a", "b"):
        with OrgStore.open(tmp_path / name, 100, 1, OrgProfile()) as s:
            runs.append([(c.sobject, c.id, c.kind) for c in
                         apply_random_changes(s, random.Random(11), 40)])
    assert runs[0] == runs[1]


def test_count_zero_and_negative(store):
    assert apply_random_changes(store, random.Random(1), 0) == []
    with pytest.raises(ValueError):
        apply_random_changes(store, random.Random(1), -1)


async def test_run_activity_until_cancelled(store):
    heard: list[Change] = []
    store.add_listener(heard.append)
    task = asyncio.create_task(run_activity(store, 0.01, random.Random(5)))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len({c.modstamp for c in heard} | {c.id for c in heard}) >= 3:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert heard


async def test_run_activity_stops_when_the_store_closes(tmp_path):
    s = OrgStore.open(tmp_path, 50, 1, OrgProfile())
    s.close()
    await asyncio.wait_for(run_activity(s, 0.001, random.Random(1)), timeout=5)
