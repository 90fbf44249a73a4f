"""Review of the tui-shown merge ("every inspection column fits at 80"): the widths are counted
in characters (``clip``, ``_deal_and_kinds``: ``len``), but a CJK character takes two columns
of the terminal — a Japanese org's deal names pushed Close off an 80-column screen. Over the
hand-built store of ``test_inspection.py``, made wide as in ``test_inspection_fits.py``."""

from __future__ import annotations

from textual.widgets import DataTable

from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.tui.screens.inspection import InspectionScreen
from tests.tui.test_inspection import NOW, _app
from tests.tui.test_inspection_fits import _fits, _shown, _wide_store
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import ANA, BO, CY, deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


async def test_every_column_fits_at_80_columns_with_japanese_deal_and_owner_names(
        store, tmp_path):
    app = _app(tmp_path)
    _wide_store()
    for uid, name in ((ANA, "山田 太郎"), (BO, "佐藤 花子"), (CY, "鈴木 一郎")):
        m.SfUser.update(name=name).where(m.SfUser.id == uid).execute()
    for n in ("01", "02", "03", "04", "05", "06", "07", "08"):
        m.Opportunity.update(name="株式会社サンプル商事 全社導入プロジェクト 更新").where(
            m.Opportunity.id == deal_id(n)).execute()
    deal_facts.rebuild()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = InspectionScreen(now=NOW)
        await app.push_screen(screen)
        await _shown(app, pilot, screen, "this-quarter")
        too_wide = []
        for key, tab in (("1", "#inspect-changes"), ("2", "#inspect-risk"),
                         ("3", "#inspect-reps")):
            await pilot.press(key)  # measured while shown (a hidden tab has no width)
            await settle(app, pilot)
            table = screen.query_one(tab, DataTable)
            used, room = _fits(table)
            if used > room or table.max_scroll_x:
                too_wide.append((tab, used, room))
        assert not too_wide, too_wide  # was Changes 92 > 80, At risk 81 > 78
