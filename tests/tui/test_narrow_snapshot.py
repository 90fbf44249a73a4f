"""Issue 19: every screen right at 80×24. Snapshots of pipelines, deal detail, connect
(permissions) and sync progress at 80×24 over fixed data (the hand-built store, fixed progress
events, no demo org, a fixed clock), plus what a reader must see there (item 7)."""

from __future__ import annotations

from datetime import UTC, datetime

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices, DemoTarget
from smvue_tui.store import deals as dl
from smvue_tui.store import models as m
from smvue_tui.sync.progress import ProgressEvent
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import SyncProgress, SyncStarted
from tests.tui.test_connect_snapshot import progress_feeder
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import ACME, deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

SIZE = (80, 24)
LONG_SUBJECT = "Quarterly business review with the CFO"


def _app(store, tmp_path) -> SmvueApp:
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    # A fixed clock: the deal list's risk column and the deal's flags judge dates by it.
    return SmvueApp(AppServices(paths=paths, db=store, background=False,
                                now=lambda: datetime(2026, 11, 15, 12, tzinfo=UTC)))


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
    note = dl.add_note(deal_id("02"), "Champion is the CFO")
    m.Note.update(created_at="2026-11-02T09:00:00+00:00",  # a fixed date on the snapshot
                  updated_at="2026-11-02T09:00:00+00:00").where(m.Note.id == note.id).execute()
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
    assert snap_compare(SmvueApp(empty_services), run_before=progress_feeder(events),
                        terminal_size=SIZE)


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


# --- 9: one probability for a deal, the picker of the tab shown, stages in pipeline order ------

async def test_an_override_shows_on_the_deal_rows_as_in_the_totals(store, tmp_path):
    from smvue_tui.store import pipeline as pl
    from smvue_tui.tui.screens.pipeline_modals import ChoiceModal
    from smvue_tui.tui.widgets.paged_table import PagedTable

    pl.set_stage_override("Proposal", 80.0)  # Salesforce says 50 %
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#deals", PagedTable)
        rows = {table.row_at(i)[0]: table.row_at(i) for i in range(table.row_count)}
        prob = next(c for c in table.columns if c.key == "probability")
        for name in ("Acme platform", "Beta rollout"):  # the two Proposal deals
            assert prob.cell(rows[name][7]) == "80%*"
        assert prob.cell(rows["Gamma pilot"][7]) == "80%"  # Negotiation: no *
        text = screen_text(app)
        assert "80%*" in text.split("Deal ")[0]  # the totals say the same
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceModal)
        labels = [str(app.screen.query_one("OptionList").get_option_at_index(i).prompt)
                  for i in range(app.screen.query_one("OptionList").option_count)]
        # New Business deals' stages only, in pipeline order (open by probability, then won, lost)
        assert [label.split(":")[0] for label in labels] == [
            "Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]


def test_stages_follow_the_sales_process_not_the_global_sort_order(store):
    from smvue_tui.store import pipeline as pl

    # Partner-like stages added later in Setup: high SortOrder, probabilities in process order
    for n, (name, order, prob) in enumerate((("Discovery", 9, 5.0), ("Pilot", 10, 30.0)), 6):
        m.OpportunityStage.create(id=f"01J8W00000000{n:02d}UAA", master_label=name,
                                  api_name=name, sort_order=order, default_probability=prob,
                                  is_closed=False, is_won=False, is_active=True)
    assert list(pl.stage_probabilities()) == [
        "Discovery", "Prospecting", "Pilot", "Proposal", "Negotiation", "Closed Won",
        "Closed Lost"]
    m.Opportunity.update(stage_name="Pilot").where(m.Opportunity.id == deal_id("08")).execute()
    renewal = "0128W0000000002QAA"
    assert list(pl.stage_probabilities(renewal)) == ["Pilot"]
    summary = pl.summarize(pl.DealFilter(pipeline="0128W0000000001QAA", status="all"))
    labels = [g.label for g in summary.by_stage]
    assert labels.index("Prospecting") < labels.index("Proposal") < labels.index("Closed Won")


# --- 10 and the search across tabs: a search that finds nothing here says where it does -------

async def test_search_names_the_tabs_it_finds_deals_in(store, tmp_path):
    from smvue_tui.tui.widgets.paged_table import PagedTable

    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"renewal")
        await settle(app, pilot)
        table = app.screen.query_one("#deals", PagedTable)
        assert table.row_count == 0
        text = screen_text(app)
        assert "No deal or account here matches 'renewal'; found in Renewal (1)" in text
        assert "0 deals · also in Renewal (1)" in text
        await pilot.press("enter", "right_square_bracket")  # to the Renewal tab: it is there
        await settle(app, pilot)
        assert table.row_count == 1 and table.row_at(0)[0] == "Renewal one"
        await pilot.press("slash", *"zz")
        await settle(app, pilot)
        assert "No deal or account matches 'zz' in any pipeline" in screen_text(app)


async def test_search_counts_deals_hidden_by_the_status_filter(store, tmp_path):
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"deal")  # "Won deal", "Lost deal" are closed
        await settle(app, pilot)
        assert "also in other statuses (o) (2)" in screen_text(app)


# --- notes with their dates ------------------------------------------------------------------

async def test_notes_show_their_date_and_an_edit_mark(store, tmp_path):
    first = dl.add_note(deal_id("02"), "Champion is the CFO")
    second = dl.add_note(deal_id("02"), "Budget approved\nfor Q1")
    m.Note.update(created_at="2026-11-02T09:00:00+00:00",
                  updated_at="2026-11-02T09:00:00+00:00").where(m.Note.id == first.id).execute()
    m.Note.update(created_at="2026-11-03T09:00:00+00:00",
                  updated_at="2026-11-05T16:30:00+00:00").where(m.Note.id == second.id).execute()
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await _open_acme_platform(app, pilot)
        text = screen_text(app)
        assert "2026-11-05 ✎  Budget approved …" in text  # newest first, edited
        assert "2026-11-02  Champion is the CFO" in text
        assert text.index("2026-11-05") < text.index("2026-11-02")


# --- amounts with their currency --------------------------------------------------------------

async def test_one_currency_is_said_once_in_the_headings(store, tmp_path):
    from smvue_tui.store import pipeline as pl

    m.Opportunity.update(currency_iso_code="GBP").execute()
    assert pl.summarize(pl.DealFilter()).currency == "GBP"
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Amount GBP" in text and "Risk-adjusted GBP" in text  # the totals' headings
        assert "1,000 GBP" in text and "4,000 GBP" in text  # each deal row
        assert " Cur " not in text.split("Deal ")[1]  # no currency column in the deal list
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert "2,000 GBP" in screen_text(app)  # the deal page


async def test_multi_currency_rows_keep_each_deals_currency(store, tmp_path):
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "4,000 EUR" in text and "2,000 USD" in text


# --- found on the walk at 80×24 ---------------------------------------------------------------

async def test_why_missing_fits_80_columns(store, tmp_path):
    app = _app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        box = app.screen.query_one("#why-box")
        assert box.region.right <= 80 and box.region.x >= 0
        assert any(line.rstrip().endswith("╮") for line in screen_text(app).splitlines())


async def test_sync_counts_stay_readable_at_80_columns(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        app.post_message(SyncStarted("initial"))
        app.post_message(SyncProgress(ProgressEvent("OpportunityHistory", 1192, 1192, 0.0, None,
                                                    3, "done")))
        await settle(app, pilot)
        assert "1,192 / 1,192  done" in screen_text(app)


# --- open the deal in Salesforce: a hyperlink and a key that copies the link -------------------

async def test_deal_page_links_to_salesforce_and_copies_the_link(store, tmp_path):
    from rich.text import Text
    from textual.widgets import Static

    app = _app(store, tmp_path)
    m.Connection.update(instance_url="https://acme.my.salesforce.com").execute()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 34)) as pilot:
        await _open_acme_platform(app, pilot)
        url = f"https://acme.my.salesforce.com/lightning/r/Opportunity/{deal_id('02')}/view"
        title = app.screen.query_one("#deal-title", Static).content
        assert isinstance(title, Text)
        links = {span.style.link for span in title.spans if hasattr(span.style, "link")}
        assert url in links and "Open in Salesforce ↗" in screen_text(app)
        await pilot.press("u")
        assert copied == [url]
        assert any(n.title == "Salesforce link copied" for n in app._notifications)


# --- manager rollup: a manager and their reps as one group --------------------------------------

def _team_of_ana() -> int:
    """Ana manages Bo and Cy (SMVue's reporting lines); Ex is in no team."""
    from tests.unit.store.pipeline_fixtures import ANA, BO, CY

    boss = m.TeamMember.create(sf_user_id=ANA, name="Ana Lee", role="Manager", coached=True)
    for uid, name in ((BO, "Bo Chen"), (CY, "Cy Park")):
        m.TeamMember.create(sf_user_id=uid, name=name, manager=boss.id, coached=True)
    return boss.id


def test_rep_filter_offers_the_managers_team_and_filters_by_it(store):
    from smvue_tui.store import pipeline as pl
    from smvue_tui.store.rollup import rep_choices

    boss = _team_of_ana()
    flt = pl.DealFilter(pipeline="0128W0000000001QAA")
    choices = rep_choices(flt)
    assert choices[0] == (None, "All reps")
    assert choices[1] == (f"team:{boss}", "Ana Lee's team (3 with deals here)")
    deals = pl.summarize(pl.DealFilter(pipeline="0128W0000000001QAA", rep=f"team:{boss}"))
    assert sum(t.count for t in deals.totals) == 5  # every open New Business deal: 3 owners


async def test_by_rep_view_puts_each_team_total_above_its_reps(store, tmp_path):
    _team_of_ana()
    app = _app(store, tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await pilot.press("g")  # by rep
        await settle(app, pilot)
        lines = [line.strip() for line in screen_text(app).splitlines()]
        teams = [i for i, line in enumerate(lines) if line.startswith("Ana Lee's team")]
        assert len(teams) == 2  # its totals, one per currency (EUR, USD)
        after = [line.split("  ")[0] for line in lines[teams[-1] + 1:teams[-1] + 5]]
        assert after == ["Ana Lee", "Bo Chen", "Bo Chen", "Cy Park"]
        assert "4,000" in lines[teams[0]] and "3,800" in lines[teams[1]]  # EUR and USD sums
