"""Snapshot of Team Member Mapping on a hand-built store (no dates, no clocks, fixed size)."""

from __future__ import annotations

from contextlib import suppress

from textual.worker import WorkerCancelled

from smvue_tui.store import models as m
from smvue_tui.store import team
from smvue_tui.tui.app import SmvueApp

ME = "0058W0000000001QAA"
USERS = [(ME, "Morgan Reyes", True), ("0058W0000000002QAA", "Ana Lee", True),
         ("0058W0000000003QAA", "Bo Chen", True), ("0058W0000000004QAA", "Cy Old", False),
         ("0058W0000000005QAA", "Dee Park", True)]
DEALS = [  # owner index, name, amount, stage, currency, record type
    (1, "Acme Expansion", 120_000, "Proposal/Price Quote", "USD", "0128W0000000001QAA"),
    (1, "Acme Berlin", 40_000, "Qualification", "EUR", "0128W0000000001QAA"),
    (2, "Globex Renewal", 55_000, "Negotiation/Review", "USD", "0128W0000000002QAA"),
    (2, "Initech Pilot", 18_500, "Closed Won", "USD", "0128W0000000001QAA"),
    (3, "Umbrella Old", 9_000, "Prospecting", "USD", "0128W0000000001QAA"),
    (4, "Hooli Seats", 31_000, "Needs Analysis", "USD", "0128W0000000001QAA"),
]


def build_store() -> None:
    """A small fixed org in the store: five users, six deals, a connection, two reps."""
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x", username="morgan@example.com", user_id=ME)
    for uid, name, active in USERS:
        m.SfUser.create(id=uid, name=name, is_active=active)
    m.RecordType.create(id="0128W0000000001QAA", name="New Business",
                        sobject_type="Opportunity")
    m.RecordType.create(id="0128W0000000002QAA", name="Renewal", sobject_type="Opportunity")
    for n, (owner, name, amount, stage, currency, rt) in enumerate(DEALS, start=1):
        closed = stage.startswith("Closed")
        m.Opportunity.create(id=f"0068W00000000{n:02d}QAA"[:18], name=name,
                             owner_id=USERS[owner][0], amount=amount, stage_name=stage,
                             is_closed=closed, is_won=closed, currency_iso_code=currency,
                             close_date="2026-12-15", record_type_id=rt)
    team.set_coached(USERS[1][0], True)
    team.set_coached(USERS[2][0], True)
    team.set_role(USERS[2][0], "CSM")
    team.add_member("Pat Newhire", "pat@example.com", "SDR", team.default_manager().id)


async def settle(pilot) -> None:
    for _ in range(3):
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_team_mapping_snapshot(empty_services, snap_compare):
    build_store()

    async def open_team(pilot) -> None:
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(SmvueApp(empty_services), run_before=open_team,
                        terminal_size=(110, 22))
