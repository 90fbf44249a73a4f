"""Issue 19: every screen right at 80×24. Snapshots of pipelines, deal detail, connect
(permissions) and sync progress at 80×24 over fixed data (the hand-built store, fixed progress
events, no demo org and no clock), plus what a reader must see there (item 7)."""

from __future__ import annotations

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices, DemoTarget
from smvue_tui.store import deals as dl
from smvue_tui.store import models as m
from smvue_tui.sync.progress import ProgressEvent
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import SyncProgress, SyncStarted
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import ACME, deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

SIZE = (80, 24)
LONG_SUBJECT = "Quarterly business review with the CFO"


def _app(store, tmp_path) -> SmvueApp:
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    return SmvueApp(AppServices(paths=paths, db=store, background=False))


def _activities() -> None:
    m.Activity.create(id="00U8W0000000001QAA", kind="Event", subject=LONG_SUBJECT,
                      occurred_at="2026-12-01T15:00:00", what_id=deal_id("02"))
    m.Activity.create(id="00T8W0000000001QAA", kind="Task", subject="Send the pricing sheet",
                      occurred_at="2026-11-20", what_id=ACME, subtype="Call",
                      status="Completed")


async def _open_acme_platform(app, pilot) -> None:
    await settle(app, pilot)
    await pilot.press("down", "down", "enter")  # Acme platform (third by close date)
    await settle(app, pilot)
    assert app.screen.deal_id == deal_id("02")


def test_pipelines_80x24_snapshot(store, tmp_path, snap_compare):
    app = _app(store, tmp_path)

    async def ready(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("down")  # the cursor on the second row

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_deal_detail_80x24_snapshot(store, tmp_path, snap_compare):
    dl.add_note(deal_id("02"), "Champion is the CFO")
    _activities()
    app = _app(store, tmp_path)

    async def open_deal(pilot) -> None:
        await _open_acme_platform(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_deal)


def test_connect_permissions_80x24_snapshot(empty_services, snap_compare):
    empty_services.demo_targets = [DemoTarget("Production", "http://127.0.0.1:9", None)]

    async def review(pilot) -> None:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(SmvueApp(empty_services), run_before=review, terminal_size=SIZE)


def test_sync_progress_80x24_snapshot(empty_services, snap_compare):
    events = [ProgressEvent("Account", 106, 106, 900.0, None, 3, "done"),
              ProgressEvent("Opportunity", 200, 354, 410.0, 4.0, 9),
              ProgressEvent("Contact", 12_345, 12_345, 1_200.0, 0.0, 11),
              ProgressEvent("Task", 0, None, 0.0, None, 9, "skipped")]

    async def feed(pilot) -> None:
        await pilot.press("s")
        pilot.app.post_message(SyncStarted("initial"))
        for event in events:
            pilot.app.post_message(SyncProgress(event))
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(SmvueApp(empty_services), run_before=feed, terminal_size=SIZE)


# --- 7: what must be readable at 80×24 -------------------------------------------------------

async def test_deal_list_at_80_columns_shows_every_column_and_whole_amounts(store, tmp_path):
    app = _app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if line.startswith("Deal "))
        for label in ("Account", "Stage", "Amount", "Close", "Owner", "Prob"):
            assert label in header, header
        assert len(header.rstrip()) <= 80
        text = "\n".join(lines)
        for amount in ("1,000", "2,000", "4,000"):  # whole, not cut
            assert amount in text
        assert "2026-11-10" in text  # the close date is on screen


async def test_deal_detail_at_80_columns_shows_whole_activity_subjects(store, tmp_path):
    _activities()
    app = _app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open_acme_platform(app, pilot)
        body = app.screen.query_one("#deal-body")
        body.scroll_end(animate=False, immediate=True)
        await settle(app, pilot)
        text = screen_text(app)
        assert LONG_SUBJECT[:30] in text.replace("\n", " "), text
        assert "Send the pricing sheet" in text


async def test_permissions_at_80x24_show_the_read_only_line(empty_services):
    empty_services.demo_targets = [DemoTarget("Production", "http://127.0.0.1:9", None)]
    app = SmvueApp(empty_services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "read-only and never" in text.replace("\n", " ").replace("  ", " ")
        review = app.screen.query_one("#review")
        assert review.max_scroll_y > 0 and review.has_focus  # the rest scrolls with the keys
        await pilot.press("end")
        await pilot.pause()
        assert "Apex" in screen_text(app)  # the last line of the page
