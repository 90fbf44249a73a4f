"""Snapshots of the Pipelines screen and a deal, over the small hand-built store of the unit
tests (fixed dates and amounts, two currencies, no clock): deterministic on any day."""

from __future__ import annotations

from datetime import UTC, datetime

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import deals as dl
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

SIZE = (120, 34)


def _app(store, tmp_path) -> SmvueApp:
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    # A fixed clock: the deal screen's risk flags judge dates by it (close date past, …).
    return SmvueApp(AppServices(paths=paths, db=store, background=False,
                                now=lambda: datetime(2026, 11, 15, 12, tzinfo=UTC)))


def test_pipelines_snapshot(store, tmp_path, snap_compare):
    app = _app(store, tmp_path)

    async def ready(pilot) -> None:
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_deal_detail_snapshot(store, tmp_path, snap_compare):
    note = dl.add_note(deal_id("02"), "Champion is the CFO")
    m.Note.update(created_at="2026-11-02T09:00:00+00:00",  # a fixed date on the snapshot
                  updated_at="2026-11-02T09:00:00+00:00").where(m.Note.id == note.id).execute()
    dl.add_action_item(deal_id("02"), "Send MSA", "2027-01-10")
    app = _app(store, tmp_path)

    async def open_deal(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")  # Acme platform (third by close date)
        await settle(app, pilot)
        assert app.screen.deal_id == deal_id("02")

    assert snap_compare(app, terminal_size=SIZE, run_before=open_deal)
