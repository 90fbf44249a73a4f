"""Plumbing shared by the generator modules: buffered table writes, id counters, time, names."""

from __future__ import annotations

import random
import sqlite3
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smvue_demo_org.ids import _BASE62, _SUFFIX, make_id
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import Catalog

DAY = 86_400
CHUNK = 5_000  # rows per executemany: bounded memory whatever the org size

Progress = Callable[[str, int, int], None]


def sf_datetime(ts: float) -> str:
    """Epoch seconds → ``2026-11-02T09:15:00.000+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(ts))


def sf_date(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class Ids:
    """One counter per key prefix (LeadHistory and OpportunityFieldHistory share ``017``).

    Ids come out exactly as ``make_id`` makes them, but faster: consecutive counters share all
    but the 15th char, so ``make_id`` runs once per 62 ids and the rest only swaps the last
    char and its case bit in the suffix (make_id per row was a third of generation time).
    """

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._heads: dict[str, tuple[int, str, str, int]] = {}

    def next(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        high, low = divmod(n, 62)
        head = self._heads.get(prefix)
        if head is None or head[0] != high:
            base = make_id(prefix, high * 62)  # same first 14 chars, last char "0"
            bits = sum(1 << i for i, ch in enumerate(base[10:14]) if "A" <= ch <= "Z")
            head = (high, base[:14], base[15:17], bits)
            self._heads[prefix] = head
        last = _BASE62[low]
        return head[1] + last + head[2] + _SUFFIX[head[3] | (16 if "A" <= last <= "Z" else 0)]


class Sink:
    """Buffers rows per table and writes them in chunks; unknown keys are ignored."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog) -> None:
        self.conn = conn
        self.catalog = catalog
        self._cols: dict[str, tuple[str, ...]] = {}
        self._sql: dict[str, str] = {}
        self._rows: dict[str, list[tuple[Any, ...]]] = {}
        self._defaults: dict[str, dict[str, int]] = {}

    def has(self, table: str) -> bool:
        return table in self.catalog.objects

    def add(self, table: str, row: dict[str, Any]) -> None:
        cols = self._cols.get(table)
        if cols is None:
            obj = self.catalog.objects[table]
            cols = tuple(f.name for f in obj.fields.values() if f.stored)
            self._cols[table] = cols
            # Salesforce never returns a null checkbox: unset booleans are false.
            self._defaults[table] = {f.name: 0 for f in obj.fields.values()
                                     if f.type == "boolean"}
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            self._sql[table] = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            self._rows[table] = []
        defaults = self._defaults[table]
        buf = self._rows[table]
        buf.append(tuple([row.get(c, defaults.get(c)) for c in cols]))
        if len(buf) >= CHUNK:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self._rows):
            buf = self._rows[name]
            if buf:
                self.conn.executemany(self._sql[name], buf)
                buf.clear()


def audit(row: dict[str, Any], created: float, modified: float, by: str,
          modstamp: float | None = None) -> dict[str, Any]:
    """Set the audit fields (the sink drops the ones an object lacks)."""
    row["CreatedDate"] = sf_datetime(created)
    row["CreatedById"] = by
    row["LastModifiedDate"] = sf_datetime(max(created, modified))
    row["LastModifiedById"] = by
    row["SystemModstamp"] = sf_datetime(max(created, modified, modstamp or 0))
    return row


def account_name(index: int) -> str:
    """Account ``index``'s name: a pure function of the index so deals can reuse it."""
    return (f"{COMPANY_A[index * 7 % len(COMPANY_A)]} "
            f"{COMPANY_B[index * 11 % len(COMPANY_B)]} {index + 1}")


FIRST_NAMES = (
    "Ava", "Liam", "Noah", "Emma", "Olivia", "Mia", "Lucas", "Amelia", "Ethan", "Sofia", "Mateo",
    "Harper", "Leo", "Aria", "Jack", "Chloe", "Wei", "Priya", "Arjun", "Yuki", "Hana", "Omar",
    "Fatima", "Diego", "Lena", "Jonas", "Ines", "Marco", "Giulia", "Kofi", "Amara", "Sven",
    "Freya", "Tomas", "Elena", "Raj", "Mei", "Carlos", "Nina", "Owen", "Grace", "Ravi",
)
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Chen", "Patel", "Nguyen", "Kim", "Müller", "Rossi", "Silva",
    "Okafor", "Tanaka", "Schmidt", "Novak", "Dubois", "Khan", "Lopez", "Brown", "Wilson",
    "Anderson", "Martin", "Larsen", "Ivanova", "O'Brien", "Haddad", "Mensah", "Costa", "Weber",
    "Jensen", "Sato", "Fischer", "Moreau", "Reyes", "Walker", "Young", "Hall", "Singh", "Lee",
)
COMPANY_A = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Monarch", "Massive", "Aperture",
    "Blue Sun", "Nakatomi", "Pied Piper", "Virtucon", "Dunder", "Prestige", "Sirius", "Zorg",
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
)
COMPANY_B = (
    "Systems", "Labs", "Industries", "Holdings", "Logistics", "Health", "Energy", "Foods",
    "Analytics", "Robotics", "Capital", "Media", "Networks", "Pharma", "Retail", "Cloud",
    "Dynamics", "Partners", "Manufacturing", "Telecom", "Insurance", "Bank", "Motors", "Air",
)
INDUSTRIES = ("Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Energy",
              "Education", "Media", "Telecommunications", "Transportation", "Insurance")
CITIES = (("San Francisco", "USA"), ("New York", "USA"), ("Austin", "USA"), ("Chicago", "USA"),
          ("Seattle", "USA"), ("Toronto", "Canada"), ("London", "UK"), ("Berlin", "Germany"),
          ("Paris", "France"), ("Amsterdam", "Netherlands"), ("Tokyo", "Japan"),
          ("Sydney", "Australia"), ("Singapore", "Singapore"), ("São Paulo", "Brazil"))
TITLES = ("CEO", "CFO", "CTO", "VP Sales", "VP Engineering", "Director of IT", "Head of Operations",
          "Procurement Manager", "IT Manager", "Product Manager", "Finance Director",
          "Operations Analyst", "Chief Revenue Officer", "Engineering Manager")
COMPETITORS = ("Northwind CRM", "Contoso Cloud", "Fabrikam Suite", "In-house build", "Litware",
               "Adatum Analytics")


@dataclass
class Gen:
    """The generation in progress: randomness, clock, counters and what later phases refer to."""

    rng: random.Random
    anchor_ts: int
    profile: OrgProfile
    sink: Sink
    size: int
    ids: Ids = field(default_factory=Ids)
    details: random.Random = field(default_factory=random.Random)  # gen_details' own stream
    users: list[dict[str, Any]] = field(default_factory=list)
    user_names: dict[str, str] = field(default_factory=dict)
    owner_pool: list[str] = field(default_factory=list)  # deal owners, repeated by weight
    team_pool: list[str] = field(default_factory=list)  # active users who join teams
    record_types: list[tuple[str, str]] = field(default_factory=list)  # (id, developer name)
    accounts: int = 0
    account_owner: array = field(default_factory=lambda: array("i"))  # index into users
    account_ts: array = field(default_factory=lambda: array("q"))
    contact_start: array = field(default_factory=lambda: array("i"))  # first contact counter
    contact_count: array = field(default_factory=lambda: array("b"))

    def currency(self) -> str | None:
        if not self.profile.multi_currency:
            return None
        r = self.rng.random()
        return "USD" if r < 0.8 else "EUR" if r < 0.9 else "GBP" if r < 0.97 else "JPY"

    def ts_between(self, start: float, end: float) -> int:
        return int(start + self.rng.random() * max(0.0, end - start))
