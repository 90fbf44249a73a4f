"""The inspection screen after known changes made in a demo org (over loopback HTTP): synced,
changed through the org's admin API (push a close date, win, lose, stage back, amount up,
reassign), resynced, then the screen driven by keys — ``d`` for "since" the changes began, ``c``
through the change kinds, ``r`` through the reps, ``enter`` onto a deal — shows exactly those
changes; with OpportunityHistory readable and without it (the store's change log)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from smvue_tui.sync.engine import SyncEngine
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.inspection import KIND_LABELS, InspectionScreen
from smvue_tui.tui.screens.pipeline_modals import FormModal
from tests.integration.sync_support import client_for
from tests.integration.test_inspect import PROFILES, _quarter
from tests.tui.test_pipelines import screen_text, settle


def _rows(db, sql: str, *args) -> list[tuple]:
    return list(db.execute_sql(sql, args).fetchall())


async def _resync(services) -> None:
    async with client_for(services.running_org) as client:
        engine = SyncEngine(client, services.db)
        try:
            report = await engine.run("incremental")
        finally:
            engine.close()
    assert report.status == "ok", report.errors


def _make_changes(services) -> dict[str, tuple[str, list[str]]]:
    """The six changes, made in the org; deal Id → (what, the kinds the screen must show)."""
    db, org = services.db, services.running_org
    q_last = _quarter(datetime.now(UTC).date())[1]
    open_deals = _rows(db, 'SELECT "Id", "StageName", "Amount", "CloseDate", "OwnerId" FROM '
                           'opportunity WHERE "IsClosed" = 0 AND "Amount" > 0 ORDER BY "Id"')
    push = next(d for d in open_deals if d[3] > q_last)  # pushed later: not out of the quarter
    back = next(d for d in open_deals if d[1] in ("Proposal/Price Quote", "Value Proposition"))
    win, lose, raise_, reassign = [d for d in open_deals if d not in (push, back)][:4]
    users = [u for (u,) in _rows(db, 'SELECT "Id" FROM sf_user WHERE "IsActive" = 1 '
                                     'ORDER BY "Id"')]
    new_owner = next(u for u in users if u != reassign[4])
    made = {
        push[0]: ({"CloseDate": (date.fromisoformat(push[3]) + timedelta(days=30)).isoformat()},
                  ["pushed"]),
        win[0]: ({"StageName": "Closed Won"}, ["won"]),
        lose[0]: ({"StageName": "Closed Lost"}, ["lost"]),
        back[0]: ({"StageName": "Qualification"}, ["stage_back"]),
        raise_[0]: ({"Amount": raise_[2] + 12_345}, ["amount_up"]),
        reassign[0]: ({"OwnerId": new_owner}, ["owner_changed"]),
    }
    for deal, (values, _) in made.items():
        org.admin("PATCH", f"/records/Opportunity/{deal}", json=values).raise_for_status()
    return {deal: (new_owner if deal == reassign[0] else "", kinds)
            for deal, (_, kinds) in made.items()}


async def _report(app, pilot, ready) -> InspectionScreen:
    """Wait for the screen's report to satisfy ``ready`` (it is read in a worker)."""
    for _ in range(100):
        await settle(app, pilot)
        screen = app.screen
        if isinstance(screen, InspectionScreen) and screen.report is not None \
                and ready(screen.report):
            return screen
    raise AssertionError("the inspection never showed the report asked for")


def _shown(screen: InspectionScreen) -> dict[str, str]:
    """The changes table as shown: deal Id → its "Change" cell."""
    table = screen.query_one("#inspect-changes")
    return {key.value: table.get_row(key)[2].plain for key in table.rows if key.value}


@pytest.mark.parametrize("synced_services", [{"profile": p} for p in PROFILES.values()],
                         ids=list(PROFILES), indirect=True)
async def test_the_screen_shows_exactly_the_changes_made_in_the_org(synced_services):
    time.sleep(1.1)  # the window starts a whole second after the sync (stamps are to the second)
    start = datetime.now(UTC).replace(microsecond=0).isoformat()
    time.sleep(1.1)
    made = _make_changes(synced_services)
    await _resync(synced_services)
    new_owner = next(owner for owner, _ in made.values() if owner)
    names = dict(_rows(synced_services.db, 'SELECT "Id", "Name" FROM opportunity'))

    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("k")
        await _report(app, pilot, lambda r: True)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, FormModal)
        app.screen.query_one("#field-0").value = "last tuesday"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FormModal)  # said in words, the form stays open
        assert "The start must be a span like 7d" in screen_text(app)  # words, not a flag
        app.screen.query_one("#field-0").value = start
        await pilot.press("enter")
        screen = await _report(app, pilot, lambda r: r["window"]["start"] == start)

        expected = {deal: ", ".join(KIND_LABELS[k] for k in kinds)
                    for deal, (_, kinds) in made.items()}
        assert _shown(screen) == expected
        text = screen_text(app)
        assert f"Since {start} · all reps · every change · 6 changed" in text
        for deal in made:
            assert names[deal][:30] in text  # (longer names end in "…")

        # c: one change kind at a time, each showing exactly its deal.
        seen = {}
        for _ in range(len(made)):
            await pilot.press("c")
            await settle(app, pilot)
            kind = screen.kind
            seen[kind] = set(_shown(screen))
        assert seen == {kinds[0]: {deal} for deal, (_, kinds) in made.items()}
        await pilot.press("c")  # round to every change
        await settle(app, pilot)
        assert screen.kind is None and len(_shown(screen)) == 6

        # r: the reps in turn; the new owner's view holds the reassigned deal.
        for _ in range(len(screen.report["reps"]) + 1):
            if screen.rep == new_owner:
                break
            await pilot.press("r")
            await _report(app, pilot, lambda r: (r["rep"] or {}).get("owner_id") == screen.rep)
        assert screen.rep == new_owner
        mine = {d["id"] for d in screen.report["changes"]["deals"]}
        reassigned = next(deal for deal, (owner, _) in made.items() if owner)
        assert reassigned in _shown(screen) and set(_shown(screen)) == mine <= set(made)
        assert all(new_owner in (d["then"]["owner_id"], d["now"]["owner_id"])
                   for d in screen.report["changes"]["deals"])

        # enter: the deal under the cursor opens.
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DealDetailScreen)
        assert app.screen.deal_id in mine
