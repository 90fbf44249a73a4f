"""Team Member Mapping on a synced demo store: reps, roles, managers, import, a hand member."""

from __future__ import annotations

from contextlib import suppress

from textual.notifications import Notify
from textual.widgets._footer import FooterKey
from textual.worker import WorkerCancelled

from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.commands import commands_for
from smvue_tui.tui.screens.team_mapping import AddMemberScreen, TeamMappingScreen

AVA, ELENA, HARPER = "0058W0000000005QAA", "0058W0000000007QAA", "0058W000000000BQAQ"
SAM = "0058W000000000CQAQ"  # owns no deals in the demo org
ME = "0058W0000000001QAA"


async def settle(app, pilot) -> None:
    for _ in range(3):
        with suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def go_to(app, pilot, key: str) -> None:
    screen = app.screen
    assert isinstance(screen, TeamMappingScreen)
    table = screen.query_one("#team-table")
    target = [r.key for r in screen.rows].index(key)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")


def member(user_id: str) -> m.TeamMember:
    return m.TeamMember.get(m.TeamMember.sf_user_id == user_id)


async def test_map_two_reps_with_roles_and_a_manager(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        owners = [r for r in screen.rows if r.deals]
        assert len(owners) == 9 and all(r.deals for r in owners)
        inactive = next(r for r in screen.rows if r.name == "Lucas Moreau")
        assert not inactive.is_active
        assert member(ME).role == "Manager"  # the person logged in, created as manager
        await go_to(app, pilot, AVA)
        await pilot.press("space", "r")  # select, AE → SDR
        await settle(app, pilot)
        await go_to(app, pilot, ELENA)
        await pilot.press("space", "3")  # select, CSM
        await settle(app, pilot)
        await go_to(app, pilot, HARPER)
        await pilot.press("6")  # Manager
        await settle(app, pilot)
        await go_to(app, pilot, ELENA)
        await pilot.press("m")  # from the default (me) to the next manager, Harper
        await settle(app, pilot)
        ava, elena = member(AVA), member(ELENA)
        assert (ava.coached, ava.role, ava.manager_id) == (True, "SDR", member(ME).id)
        assert (elena.coached, elena.role, elena.manager_id) == (True, "CSM", member(HARPER).id)
        assert not member(HARPER).coached
        table = screen.query_one("#team-table")
        assert table.get_row(ELENA)[:4] == ["✓", "Elena Smith", "CSM", "Harper Wilson"]
        assert "2 reps selected" in str(screen.query_one("#team-summary").render())


async def test_import_from_crm_finds_a_new_owner_after_a_sync(synced_services):
    app = SmvueApp(synced_services)
    notes: list[str] = []

    def hook(message) -> None:
        if isinstance(message, Notify):
            notes.append(str(message.notification.message))

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        assert m.TeamMember.select().count() == 9  # 8 owners + me (also an owner)
        assert notes[-1] == "Imported 8 new users from Salesforce"
        assert not member("0058W0000000004QAA").coached  # inactive: imported unselected
        deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
        running = synced_services.running_org
        running.admin("PATCH", f"/records/Opportunity/{deal.id}",
                      json={"OwnerId": SAM}).raise_for_status()
        app.start_sync("incremental")
        await settle(app, pilot)
        assert app.last_report.status == "ok"
        assert m.Opportunity.get_by_id(deal.id).owner_id == SAM
        sam = next(r for r in app.screen.rows if r.key == SAM)
        assert sam.is_new and sam.deals == 1
        await pilot.press("c")
        await settle(app, pilot)
        assert member(SAM).coached and member(SAM).manager_id == member(ME).id
        assert m.TeamMember.select().count() == 10
        assert notes[-1] == "Imported 1 new user from Salesforce"
        assert "not yet in the team" not in str(app.screen.query_one("#team-summary").render())


async def test_add_a_team_member_by_hand(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddMemberScreen)
        await pilot.press("ctrl+s")  # no name: refused, form stays
        await settle(app, pilot)
        assert "name is required" in str(app.screen.query_one("#member-error").render())
        await pilot.press(*"Pat Newhire", "tab", *"pat@example.com")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TeamMappingScreen)
        pat = m.TeamMember.get(m.TeamMember.name == "Pat Newhire")
        assert (pat.sf_user_id, pat.email, pat.role, pat.manager_id) == \
            (None, "pat@example.com", "AE", member(ME).id)
        row = next(r for r in app.screen.rows if r.name == "Pat Newhire")
        assert row.by_hand and row.deals == 0 and row.coached


async def test_offline_empty_store_adds_a_member_without_a_manager(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(app, pilot)
        assert app.screen.rows == []
        await pilot.press("space")  # nobody to select: a warning, nothing written
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#member-name").value = "Solo Rep"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        solo = m.TeamMember.get()
        assert (solo.name, solo.manager_id, solo.coached) == ("Solo Rep", None, True)
        assert [r.name for r in app.screen.rows] == ["Solo Rep"]


async def test_continue_key_shown_in_footer_and_palette_leads_to_pipelines(synced_services):
    synced_services.paths.config_dir.mkdir(parents=True, exist_ok=True)
    synced_services.paths.config_file.write_text('[keys]\nteam_continue = "ctrl+n"\n')
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        footer = [(k.key_display, k.description) for k in screen.query(FooterKey)]
        assert ("^n", "Continue to pipelines") in footer
        command = next(c for c in commands_for(screen) if c.binding_id == "team_continue")
        assert (command.title, command.keys) == ("Continue to pipelines", ("^n",))
        await go_to(app, pilot, AVA)
        await pilot.press("space")
        await settle(app, pilot)
        assert member(AVA).coached
        assert not screen.query_one("#team-next").display  # opened with t: no first-time hint
        await pilot.press("n")  # remapped away: n does nothing here
        assert app.current_mode == "team"
        await pilot.press("ctrl+n")
        assert app.current_mode == "pipelines"
