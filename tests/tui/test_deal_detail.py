"""Deal detail on a store synced from a demo org: open a deal from the pipeline, see its parts,
add/edit/delete a note, add and complete an action item (SMVue's rows only)."""

from __future__ import annotations

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.widgets.paged_table import PagedTable
from tests.tui.test_pipelines import SIZE, screen_text, settle
from tests.unit.store.pipeline_fixtures import store as store  # the hand-built store fixture


def _deal_with_roles() -> m.Opportunity:
    """An open deal that has contact roles and activity, so every section has content."""
    role = (m.OpportunityContactRole.select()
            .join(m.Opportunity, on=(m.Opportunity.id == m.OpportunityContactRole.opportunity_id))
            .where(m.Opportunity.is_closed == False)  # noqa: E712
            .order_by(m.OpportunityContactRole.id).first())
    return m.Opportunity.get_by_id(role.opportunity_id)


async def test_enter_opens_the_deal_and_escape_goes_back(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#deals", PagedTable)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DealDetailScreen)
        deal = m.Opportunity.get_by_id(table.row_at(1)[-1])
        assert app.screen.deal_id == deal.id
        text = screen_text(app)
        assert deal.name in text
        for section in ("Account hierarchy", "Contact roles", "Collaborators", "Stage history",
                        "Activity (newest first)", "Notes", "Action items"):
            assert section in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, PipelinesScreen)


async def test_notes_and_action_items_on_a_deal(synced_services):
    deal = _deal_with_roles()
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.push_screen(DealDetailScreen(deal.id))
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, DealDetailScreen)
        roles = detail.detail.contact_roles if detail.detail else []
        assert roles and roles[0].name in screen_text(app)
        assert roles[0].is_primary or not any(r.is_primary for r in roles)  # primary first

        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("ctrl+s")  # empty: refused inside the modal
        assert "A note cannot be empty" in screen_text(app)
        await pilot.press(*"Champion is the CFO", "ctrl+s")
        await settle(app, pilot)
        note = m.Note.get(m.Note.opportunity_id == deal.id)
        assert note.body == "Champion is the CFO"
        assert "Champion is the CFO" in screen_text(app)

        await pilot.press("enter")  # edit the highlighted note
        await settle(app, pilot)
        await pilot.press("end", *"; budget approved", "ctrl+s")
        await settle(app, pilot)
        assert m.Note.get_by_id(note.id).body == "Champion is the CFO; budget approved"

        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press(*"Send MSA", "enter", *"someday", "enter")
        await settle(app, pilot)
        assert "due date must look like 2026-12-31" in screen_text(app)
        for _ in "someday":
            await pilot.press("backspace")
        await pilot.press(*"2030-01-15", "enter")
        await settle(app, pilot)
        item = m.ActionItem.get(m.ActionItem.opportunity_id == deal.id)
        assert (item.text, item.due_date, item.done) == ("Send MSA", "2030-01-15", False)

        detail.query_one("#deal-actions").focus()
        await pilot.press("x")
        await settle(app, pilot)
        assert m.ActionItem.get_by_id(item.id).done
        assert "[x] Send MSA" in screen_text(app)

        detail.query_one("#deal-notes").focus()
        await pilot.press("delete", "y")
        await settle(app, pilot)
        assert not m.Note.select().where(m.Note.opportunity_id == deal.id).exists()
        assert "No notes yet" in screen_text(app)


async def test_a_deal_that_is_gone_says_so(store, tmp_path):
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    app = SmvueApp(AppServices(paths=paths, db=store, background=False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.push_screen(DealDetailScreen("0068W00000000ZZQAA"))
        await settle(app, pilot)
        assert "This deal is gone" in screen_text(app)
        await pilot.press("n")  # no deal, no note: nothing opens, nothing is written
        await settle(app, pilot)
        assert isinstance(app.screen, DealDetailScreen)
        assert not m.Note.select().exists()
