"""A sync holding the store's write lock, met by the Risk column and by the deal screen's
flags (``StoreReads.retry_when_free``): one retry pending however many reads met the lock, and
what was shown before stays under the words — over the hand-built store of
``test_inspection.py`` (fixed clock). The inspection screen's own: test_inspection_reads.py."""

from __future__ import annotations

from smvue_tui.inspection import report
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens import pipeline_risk
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from tests.tui.test_inspection import _app
from tests.tui.test_inspection_pipelines import _pipelines
from tests.tui.test_inspection_reads import _locked, _Retries, said_after_a_change
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


async def test_store_changes_while_the_lock_is_held_leave_one_risk_retry(store, tmp_path,
                                                                        monkeypatch):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34), notifications=True) as pilot:
        screen, _ = await _pipelines(app, pilot)
        monkeypatch.setattr(pipeline_risk, "flagged_rules", _locked)
        monkeypatch.setattr(screen, "BUSY_RETRY", 987.0)
        retries = _Retries(screen, 987.0)
        monkeypatch.setattr(screen, "set_timer", retries)
        # Unspaced, so each change reads and meets the lock (spacing: test_inspection_reads.py).
        screen.risk_gate.min_gap = screen.risk_gate.cost_factor = 0.0
        for _ in range(5):  # a sync's pages, each with its StoreChanged
            app.post_message(StoreChanged(frozenset({"Opportunity"})))
            for _ in range(20):
                await settle(app, pilot)
                if not screen.risk_gate.running and not screen.risk_gate.wanted:
                    break
        assert len(retries.set) >= 2  # several reads met the lock …
        assert retries.pending() == 1  # … one retry waits


async def test_the_lock_met_after_the_flags_are_shown_keeps_them_and_says_why(
        store, tmp_path, monkeypatch):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        screen = DealDetailScreen(deal_id("01"))  # Acme expansion: past due
        await app.push_screen(screen)
        for _ in range(50):
            await settle(app, pilot)
            if "close date 2026-11-10 is" in screen_text(app):
                break
        assert "At risk" in screen_text(app)
        monkeypatch.setattr(report, "deal_risks", _locked)
        monkeypatch.setattr(DealDetailScreen, "BUSY_RETRY", 987.0)
        text = await said_after_a_change(app, pilot, "sync is writing")
        assert "Not read: a sync is writing to the store right now" in text, text
        assert "At risk" in text and "close date 2026-11-10 is" in text  # still shown


async def test_wrong_inspection_settings_are_said_on_the_deal_screen_not_listed_as_a_risk(
        store, tmp_path):
    app = _app(tmp_path)
    config = app.services.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[inspection]\npushed_times = 'three'\n")
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        screen = DealDetailScreen(deal_id("01"))
        await app.push_screen(screen)
        for _ in range(50):
            await settle(app, pilot)
            if "pushed_times" in screen_text(app):
                break
        text = screen_text(app)
        assert "Cannot check this deal's risks: [inspection] pushed_times must be a" in text
        assert "At risk" not in text and screen.risks == []
