"""Simulated users at work: random but realistic changes to a running demo org.

``apply_random_changes`` backs the admin API's ``POST /demo/mutate``; ``run_activity`` backs
``--activity-every SECONDS``. Every change goes through the store, so SystemModstamp moves,
history rows are written and change listeners (outbound messages) hear about it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from smvue_demo_org.gen_support import COMPANY_A, COMPANY_B, FIRST_NAMES, LAST_NAMES
from smvue_demo_org.schema import PIPELINES
from smvue_demo_org.store import Change, OrgStore

log = logging.getLogger(__name__)

OPEN = "IsDeleted = 0 AND IsClosed = 0"


def _today() -> date:
    return datetime.now(UTC).date()


def _days(base: str | None, days: int) -> str:
    start = date.fromisoformat(base) if base else _today()
    return (start + timedelta(days=days)).isoformat()


class _Actor:
    """Picks records and makes one kind of change; each method returns False when it can't."""

    def __init__(self, store: OrgStore, rng: random.Random) -> None:
        self.store, self.rng = store, rng
        self._stages: dict[str | None, list[str]] = {}
        self._owners: list[str] = []

    def stages(self, record_type_id: str | None) -> list[str]:
        if record_type_id not in self._stages:
            rows = self.store.select("SELECT DeveloperName FROM RecordType WHERE Id = ?",
                                     (record_type_id,)) if record_type_id else []
            name = rows[0]["DeveloperName"] if rows else "New_Business"
            self._stages[record_type_id] = PIPELINES.get(name, PIPELINES["New_Business"])[1]
        return self._stages[record_type_id]

    def owners(self) -> list[str]:
        if not self._owners:
            self._owners = [r["Id"] for r in self.store.select(
                "SELECT Id FROM User WHERE IsActive = 1 AND Department = 'Sales' "
                "AND IsDeleted = 0 ORDER BY Id")]
        return self._owners

    def open_deal(self) -> dict | None:
        return self.store.random_row("Opportunity", self.rng, OPEN)

    def stage_move(self) -> bool:
        deal = self.open_deal()
        if deal is None:
            return False
        stages = [s for s in self.stages(deal.get("RecordTypeId")) if not s.startswith("Closed")]
        here = stages.index(deal["StageName"]) if deal["StageName"] in stages else -1
        step = 1 if self.rng.random() < 0.8 or here <= 0 else -1
        target = stages[min(len(stages) - 1, max(0, here + step))]
        if target == deal["StageName"]:
            return self.close(won=self.rng.random() < 0.5)
        self.store.update("Opportunity", deal["Id"], {"StageName": target}, by=deal["OwnerId"])
        return True

    def close(self, won: bool) -> bool:
        deal = self.open_deal()
        if deal is None:
            return False
        values = {"StageName": "Closed Won" if won else "Closed Lost",
                  "CloseDate": _today().isoformat()}
        self.store.update("Opportunity", deal["Id"], values, by=deal["OwnerId"])
        return True

    def amount_edit(self) -> bool:
        deal = self.open_deal()
        if deal is None:
            return False
        factor = self.rng.choice((0.8, 0.9, 1.1, 1.25, 1.5))
        amount = float(round((deal["Amount"] or 10_000) * factor, -2))
        self.store.update("Opportunity", deal["Id"], {"Amount": amount}, by=deal["OwnerId"])
        return True

    def push_close_date(self) -> bool:
        deal = self.open_deal()
        if deal is None:
            return False
        days = self.rng.choice((7, 14, 30, 45, 90, -7))
        self.store.update("Opportunity", deal["Id"],
                          {"CloseDate": _days(deal["CloseDate"], days)}, by=deal["OwnerId"])
        return True

    def owner_change(self) -> bool:
        deal = self.open_deal()
        others = [u for u in self.owners() if deal and u != deal["OwnerId"]]
        if deal is None or not others:
            return False
        self.store.update("Opportunity", deal["Id"], {"OwnerId": self.rng.choice(others)})
        return True

    def new_deal(self) -> bool:
        rng = self.rng
        account = self.store.random_row("Account", rng)
        owner = account["OwnerId"] if account and rng.random() < 0.6 else rng.choice(
            self.owners())
        values = {
            "Name": f"{account['Name'] if account else 'Inbound'} - New Opportunity",
            "AccountId": account["Id"] if account else None, "OwnerId": owner,
            "Amount": float(round(rng.lognormvariate(10.0, 0.9), -2) or 500),
            "CloseDate": _days(None, rng.randint(20, 180)), "LeadSource": "Web",
        }
        if "RecordTypeId" in self.store.catalog.objects["Opportunity"].fields:
            rt = self.store.random_row("RecordType", rng)
            values["RecordTypeId"] = rt["Id"] if rt else None
        values["StageName"] = self.stages(values.get("RecordTypeId"))[0]
        self.store.insert("Opportunity", values, by=owner)
        return True

    def delete(self) -> bool:
        sobject = self.rng.choice(("Opportunity", "Opportunity", "Task", "Contact"))
        row = self.store.random_row(sobject, self.rng)
        if row is None:
            return False
        self.store.delete(sobject, row["Id"])
        return True

    def new_account(self) -> bool:
        name = f"{self.rng.choice(COMPANY_A)} {self.rng.choice(COMPANY_B)} (new)"
        owner = self.rng.choice(self.owners())
        self.store.insert("Account", {"Name": name, "OwnerId": owner, "Type": "Prospect"},
                          by=owner)
        return True

    def new_contact(self) -> bool:
        account = self.store.random_row("Account", self.rng)
        if account is None:
            return False
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        self.store.insert("Contact", {
            "AccountId": account["Id"], "FirstName": first, "LastName": last,
            "Email": f"{first}.{last}@example.com".lower(), "OwnerId": account["OwnerId"],
        }, by=account["OwnerId"])
        return True

    def new_activity(self, event: bool) -> bool:
        deal = self.open_deal() or self.store.random_row("Opportunity", self.rng)
        if deal is None:
            return False
        when = datetime.now(UTC) + timedelta(days=self.rng.randint(-3, 14))
        if event:
            start = when.replace(minute=0, second=0, microsecond=0)
            stamp = start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            self.store.insert("Event", {
                "Subject": "Meeting", "WhatId": deal["Id"], "OwnerId": deal["OwnerId"],
                "StartDateTime": stamp, "ActivityDateTime": stamp,
                "EndDateTime": (start + timedelta(hours=1)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000+0000"),
                "ActivityDate": start.date().isoformat(), "DurationInMinutes": 60,
                "IsAllDayEvent": False,
            }, by=deal["OwnerId"])
        else:
            subtype = self.rng.choice(("Call", "Email", "Task"))
            self.store.insert("Task", {
                "Subject": f"{subtype}: follow up", "WhatId": deal["Id"],
                "OwnerId": deal["OwnerId"], "TaskSubtype": subtype, "Status": "Not Started",
                "Priority": "Normal", "IsClosed": False,
                "ActivityDate": when.date().isoformat(),
            }, by=deal["OwnerId"])
        return True


_MIX: tuple[tuple[Callable[[_Actor], bool], int], ...] = (
    (_Actor.stage_move, 22), (_Actor.amount_edit, 10), (_Actor.push_close_date, 10),
    (lambda a: a.close(won=True), 6), (lambda a: a.close(won=False), 6),
    (_Actor.new_deal, 8), (_Actor.delete, 4), (_Actor.owner_change, 5),
    (_Actor.new_account, 3), (_Actor.new_contact, 5),
    (lambda a: a.new_activity(event=False), 13), (lambda a: a.new_activity(event=True), 8),
)


def apply_random_changes(store: OrgStore, rng: random.Random, count: int) -> list[Change]:
    """Make ``count`` realistic changes; returns every record change written (history too)."""
    if count < 0:
        raise ValueError("count must not be negative")
    actor = _Actor(store, rng)
    changes: list[Change] = []
    me = threading.get_ident()

    def collect(change: Change) -> None:
        if threading.get_ident() == me:  # listeners run in the writing thread
            changes.append(change)

    store.add_listener(collect)
    try:
        actions, weights = zip(*_MIX, strict=True)
        done = attempts = 0
        while done < count and attempts < count * 5 + 10:
            attempts += 1
            done += rng.choices(actions, weights)[0](actor)
    finally:
        store.remove_listener(collect)
    return changes


async def run_activity(store: OrgStore, every_seconds: float, rng: random.Random) -> None:
    """A change or three every ``every_seconds`` until cancelled (or the store closes)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            apply_random_changes(store, rng, rng.randint(1, 3))
        except RuntimeError:  # the store was closed under us: the org is shutting down
            return
        except Exception:
            log.exception("simulated activity failed")
