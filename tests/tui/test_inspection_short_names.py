"""Review of 0a00579 (short owner names at 80 columns): two reps must never look like one on
any tab. Its ``short_names`` made the names unique, but the tables then cut them (Reps at 10
characters, Changes and At risk at 14), and the At risk tab settled its names among the
flagged deals' owners only; ``inspection_view.owner_labels`` now settles them in the column's
width among every owner — over the hand-built store of ``test_inspection.py``."""

from __future__ import annotations

from textual.widgets import DataTable

from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.tui.screens.inspection import InspectionScreen
from tests.tui.test_inspection import NOW, _app
from tests.tui.test_inspection_fits import _shown, _wide_store
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import ANA, BO, NEW
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

MOREAU = "0058W0000000099QAA"


def _column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(i)[index]).strip() for i in range(table.row_count)]


async def _report_at_80(app, pilot) -> InspectionScreen:
    await settle(app, pilot)
    screen = InspectionScreen(now=NOW)
    await app.push_screen(screen)
    await _shown(app, pilot, screen, "this-quarter")
    return screen


async def test_the_reps_tab_at_80_columns_never_shows_two_reps_under_one_name(store, tmp_path):
    # 24 reps "Maximiliana Rep00" … "Rep23": the old short_names kept them whole (they differ
    # only at the end), then clip(…, 10) made every one "Maximilia…".
    app = _app(tmp_path)
    _wide_store()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _report_at_80(app, pilot)
        reps = screen.query_one("#inspect-reps", DataTable)
        names = _column(reps, 0)
        assert len(names) == len(screen.report["reps"]) > 20
        assert len(set(names)) == len(names), sorted(names)


async def test_two_long_named_reps_alike_but_for_the_last_name_differ_on_the_reps_tab(
        store, tmp_path):
    # "Alexandra Jones" / "Alexandra Johnson" → "Alexandra Jon." / "Alexandra Joh." (unique),
    # both cut to "Alexandra…" in the Reps tab's 10 characters.
    app = _app(tmp_path)
    m.SfUser.update(name="Alexandra Jones").where(m.SfUser.id == ANA).execute()
    m.SfUser.update(name="Alexandra Johnson").where(m.SfUser.id == BO).execute()
    deal_facts.rebuild()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _report_at_80(app, pilot)
        names = dict(zip([p["owner_id"] for p in screen.report["reps"]],
                         _column(screen.query_one("#inspect-reps", DataTable), 0), strict=True))
        alexandras = [names[ANA], names[BO]]
        assert len(set(alexandras)) == 2 and "…" not in "".join(alexandras), alexandras


async def test_an_owner_on_the_at_risk_tab_is_named_as_on_the_reps_tab(store, tmp_path):
    # The At risk tab settles short names among the flagged deals' owners only: when one of
    # Lucas Martin / Lucas Moreau has a flagged deal it reads "Lucas M." — which Lucas? — while
    # the Reps tab (and Changes) say "Lucas Ma.".
    app = _app(tmp_path)
    m.SfUser.update(name="Lucas Martin").where(m.SfUser.id == ANA).execute()
    # Lucas Moreau: a rep with a deal won this quarter, nothing open (so nothing at risk).
    m.SfUser.create(id=MOREAU, name="Lucas Moreau", is_active=True)
    m.Opportunity.create(id="0068W0000000099QAA", name="Won deal", record_type_id=NEW,
                         stage_name="Closed Won", amount=5_000.0, currency_iso_code="USD",
                         close_date="2026-11-02", owner_id=MOREAU, probability=100.0,
                         is_closed=True, is_won=True,
                         created_date="2026-06-01T00:00:00.000+0000")
    deal_facts.rebuild()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _report_at_80(app, pilot)
        r = screen.report
        reps = dict(zip([p["owner_id"] for p in r["reps"]],
                        _column(screen.query_one("#inspect-reps", DataTable), 0), strict=True))
        assert {"Lucas Ma.", "Lucas Mo."} <= set(reps.values())
        flagged = r["flags"]["deals"]
        owners = {d["owner_id"] for d in flagged}
        assert owners & {ANA, MOREAU} and not {ANA, MOREAU} <= owners, owners  # one Lucas flagged
        shown = _column(screen.query_one("#inspect-risk", DataTable), 1)
        for d, owner in zip(flagged, shown, strict=False):
            if d["owner_id"] in (ANA, MOREAU):
                assert owner == reps[d["owner_id"]], (owner, reps[d["owner_id"]])


async def test_the_at_risk_tab_at_120_columns_names_each_owner_apart(store, tmp_path):
    # Between 110 and 140 columns the At risk tab shows whole names cut at 14: the 24
    # "Maximiliana Rep00" … "Rep23" are all "Maximiliana R…".
    app = _app(tmp_path)
    _wide_store()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _report_at_80(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        risk = screen.query_one("#inspect-risk", DataTable)
        flagged = screen.report["flags"]["deals"]
        owners = {}
        for d, owner in zip(flagged, _column(risk, 1), strict=False):
            owners.setdefault(owner, set()).add(d["owner_id"])
        assert len({d['owner_id'] for d in flagged}) > 20
        assert all(len(ids) == 1 for ids in owners.values()), \
            {name: len(ids) for name, ids in owners.items() if len(ids) > 1}


async def test_a_reassigned_deals_earlier_owner_is_told_apart_from_a_namesake(store, tmp_path):
    # Changes names who had a reassigned deal by first name only ("Lucas → Cy P."): with a
    # Lucas Martin and a Lucas Moreau on the team, which Lucas lost the deal?
    app = _app(tmp_path)
    _wide_store()  # deal 03: Bo's before, Cy's now
    m.SfUser.update(name="Lucas Martin").where(m.SfUser.id == ANA).execute()
    m.SfUser.update(name="Lucas Moreau").where(m.SfUser.id == BO).execute()
    deal_facts.rebuild()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _report_at_80(app, pilot)
        changes = screen.query_one("#inspect-changes", DataTable)
        moved = [owner for owner in _column(changes, 1) if "→" in owner]
        assert moved, _column(changes, 1)
        assert all("Lucas Mo" in owner for owner in moved), moved
