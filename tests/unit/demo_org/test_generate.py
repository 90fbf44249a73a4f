"""The generated org: deterministic, proportional, internally consistent, shaped by toggles."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest

from smvue_demo_org import org_cache
from smvue_demo_org.derived import STAGES, fiscal
from smvue_demo_org.gen_support import Ids
from smvue_demo_org.generate import anchor_for
from smvue_demo_org.ids import make_id
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import PIPELINES

N = 400


def _org(cache_dir, profile=None, seed=1, size=N) -> sqlite3.Connection:
    path, _ = org_cache.cached_org(cache_dir, size, seed, profile or OrgProfile(), anchor_for())
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    conn = _org(tmp_path_factory.mktemp("gen"))
    yield conn
    conn.close()


def _one(db, sql, *params):
    return db.execute(sql, params).fetchone()[0]


def _dump(conn, table):
    return conn.execute(f'SELECT * FROM "{table}" ORDER BY Id').fetchall()


def test_anchor_is_monday_of_the_iso_week():
    assert anchor_for(datetime(2026, 11, 26, 23, 0)) == date(2026, 11, 23)
    assert anchor_for(datetime(2026, 11, 23, 0, 0)) == date(2026, 11, 23)
    assert anchor_for(datetime(2026, 11, 29, 12, 0)) == date(2026, 11, 23)


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    a, b = _org(tmp_path / "a", size=120), _org(tmp_path / "b", size=120)
    c = _org(tmp_path / "c", size=120, seed=2)
    for table in ("Opportunity", "Account", "Task", "OpportunityHistory", "Lead"):
        assert [tuple(r) for r in _dump(a, table)] == [tuple(r) for r in _dump(b, table)]
    rows_a, rows_c = _dump(a, "Opportunity"), _dump(c, "Opportunity")
    assert [tuple(r) for r in rows_a] != [tuple(r) for r in rows_c]
    for conn in (a, b, c):
        conn.close()


def test_proportions(db):
    accounts, contacts = _one(db, "SELECT COUNT(*) FROM Account"), _one(
        db, "SELECT COUNT(*) FROM Contact")
    assert _one(db, "SELECT COUNT(*) FROM Opportunity") == N
    assert accounts == N // 4
    assert 2 * accounts <= contacts <= 4 * accounts
    assert 0.35 * N <= _one(db, "SELECT COUNT(*) FROM Lead") <= 0.65 * N
    assert 1.5 * N <= _one(db, "SELECT COUNT(*) FROM Task") <= 2.5 * N
    assert 0.7 * N <= _one(db, "SELECT COUNT(*) FROM Event") <= 1.3 * N
    assert 0.4 * N <= _one(db, "SELECT COUNT(*) FROM EmailMessage") <= 1.0 * N
    assert _one(db, "SELECT COUNT(*) FROM Organization") == 1
    assert _one(db, "SELECT COUNT(*) FROM OpportunityStage") == len(STAGES)
    assert _one(db, "SELECT COUNT(*) FROM RecordType") == len(PIPELINES)


def test_users_roles(db):
    demo = db.execute("SELECT * FROM User WHERE Username = 'manager@demo.smvue.local'").fetchone()
    assert demo["IsActive"] == 1
    assert _one(db, "SELECT COUNT(*) FROM User WHERE ManagerId = ?", demo["Id"]) >= 2
    assert _one(db, "SELECT COUNT(*) FROM Opportunity WHERE OwnerId = ?", demo["Id"]) > 0
    owners = _one(db, "SELECT COUNT(DISTINCT OwnerId) FROM Opportunity")
    assert owners >= 8
    assert _one(db, "SELECT COUNT(*) FROM Opportunity o JOIN User u ON u.Id = o.OwnerId "
                    "WHERE u.IsActive = 0") > 0  # inactive reps still own deals
    assert _one(db, "SELECT COUNT(*) FROM User u WHERE NOT EXISTS (SELECT 1 FROM Opportunity "
                    "o WHERE o.OwnerId = u.Id)") >= 3  # users who own nothing


@pytest.mark.parametrize("table", ["Account", "Contact", "Opportunity", "Lead", "Task", "Event"])
def test_every_owner_is_a_user(db, table):
    assert _one(db, f"SELECT COUNT(*) FROM {table} WHERE OwnerId NOT IN (SELECT Id FROM User)") == 0


def test_references_resolve(db):
    checks = [
        ("Account", "ParentId", "Account"), ("Contact", "AccountId", "Account"),
        ("Opportunity", "AccountId", "Account"), ("Opportunity", "RecordTypeId", "RecordType"),
        ("OpportunityContactRole", "ContactId", "Contact"),
        ("OpportunityContactRole", "OpportunityId", "Opportunity"),
        ("OpportunityHistory", "OpportunityId", "Opportunity"),
        ("Lead", "ConvertedOpportunityId", "Opportunity"),
        ("Lead", "ConvertedContactId", "Contact"), ("User", "ManagerId", "User"),
        ("EmailMessage", "ActivityId", "Task"),
    ]
    for table, col, target in checks:
        dangling = _one(db, f"SELECT COUNT(*) FROM {table} WHERE {col} IS NOT NULL AND {col} "
                            f"NOT IN (SELECT Id FROM {target})")
        assert dangling == 0, (table, col)
    assert _one(db, "SELECT COUNT(*) FROM Task WHERE WhatId NOT IN (SELECT Id FROM Opportunity "
                    "UNION SELECT Id FROM Account)") == 0


def test_account_hierarchy_has_three_levels(db):
    depth3 = _one(db, "SELECT COUNT(*) FROM Account a JOIN Account p ON p.Id = a.ParentId "
                      "JOIN Account g ON g.Id = p.ParentId WHERE g.ParentId IS NULL")
    assert depth3 > 0
    assert _one(db, "SELECT COUNT(*) FROM Account a JOIN Account p ON p.Id = a.ParentId "
                    "JOIN Account g ON g.Id = p.ParentId WHERE g.ParentId IS NOT NULL") == 0


def test_contact_roles_have_exactly_one_primary(db):
    bad = db.execute("SELECT OpportunityId, SUM(IsPrimary) p, COUNT(*) n FROM "
                     "OpportunityContactRole GROUP BY OpportunityId HAVING p != 1 OR n > 4")
    assert bad.fetchall() == []
    assert _one(db, "SELECT COUNT(*) FROM OpportunityContactRole r JOIN Opportunity o "
                    "ON o.Id = r.OpportunityId JOIN Contact c ON c.Id = r.ContactId "
                    "WHERE c.AccountId IS NOT o.AccountId") == 0


def test_opportunity_derived_fields_and_stages(db):
    rt_stages = {r["Id"]: PIPELINES[r["DeveloperName"]][1]
                 for r in db.execute("SELECT Id, DeveloperName FROM RecordType")}
    for opp in db.execute("SELECT * FROM Opportunity"):
        prob, closed, won, forecast = STAGES[opp["StageName"]]
        assert opp["StageName"] in rt_stages[opp["RecordTypeId"]]
        assert (opp["Probability"], opp["IsClosed"], opp["IsWon"], opp["ForecastCategory"]) == \
            (prob, int(closed), int(won), forecast)
        assert opp["ExpectedRevenue"] == pytest.approx(opp["Amount"] * prob / 100)
        assert (opp["FiscalYear"], opp["FiscalQuarter"]) == fiscal(opp["CloseDate"])
        assert opp["CreatedDate"] <= opp["LastModifiedDate"] <= opp["SystemModstamp"]
        assert opp["Deal_Tier__c"] and opp["Seats__c"] and opp["Is_Strategic__c"] in (0, 1)


def test_dates_spread(db):
    anchor = anchor_for()
    closed = [date.fromisoformat(r[0]) for r in db.execute(
        "SELECT CloseDate FROM Opportunity WHERE IsClosed = 1")]
    assert min(closed) < anchor - timedelta(days=365)  # a 12-month lookback misses some
    assert max(closed) > anchor - timedelta(days=60)
    assert {d.year * 12 + d.month for d in closed}.__len__() >= 18  # spread over the months
    open_dates = [date.fromisoformat(r[0]) for r in db.execute(
        "SELECT CloseDate FROM Opportunity WHERE IsClosed = 0")]
    assert len(open_dates) > N // 10
    assert any(d < anchor for d in open_dates)  # overdue
    assert max(open_dates) <= anchor + timedelta(days=186)
    created = _one(db, "SELECT MIN(CreatedDate) FROM Opportunity")
    assert created[:10] >= (anchor - timedelta(days=731)).isoformat()
    assert _one(db, "SELECT MAX(SystemModstamp) FROM Opportunity")[:10] <= anchor.isoformat()
    no_account = _one(db, "SELECT COUNT(*) FROM Opportunity WHERE AccountId IS NULL")
    assert 1 <= no_account <= N * 0.08


def test_history_rows_per_opportunity(db):
    per_opp = [r[0] for r in db.execute(
        "SELECT COUNT(h.Id) FROM Opportunity o LEFT JOIN OpportunityHistory h "
        "ON h.OpportunityId = o.Id GROUP BY o.Id")]
    assert min(per_opp) >= 1 and max(per_opp) <= 5
    # the latest history row matches the deal
    mismatched = _one(db, """
        SELECT COUNT(*) FROM Opportunity o JOIN OpportunityHistory h ON h.OpportunityId = o.Id
        WHERE h.Id = (SELECT MAX(Id) FROM OpportunityHistory WHERE OpportunityId = o.Id)
          AND (h.StageName != o.StageName OR h.Amount != o.Amount OR h.CloseDate != o.CloseDate)
    """)
    assert mismatched == 0
    assert _one(db, "SELECT COUNT(*) FROM OpportunityFieldHistory WHERE Field = 'created'") == N
    assert _one(db, "SELECT COUNT(*) FROM LeadHistory") > 0
    assert _one(db, "SELECT COUNT(*) FROM OpportunityTeamMember") > 0
    assert _one(db, "SELECT COUNT(*) FROM AccountTeamMember") > 0


def test_toggles_shape_the_data(tmp_path):
    off = OrgProfile(team_selling=False, account_teams=False, history_tracking=False,
                     record_types=False, multi_currency=True, edition="Unlimited", sandbox=True)
    db = _org(tmp_path, off, size=150)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "OpportunityTeamMember" not in tables and "AccountTeamMember" not in tables
    assert _one(db, "SELECT COUNT(*) FROM OpportunityFieldHistory") == 0
    assert _one(db, "SELECT COUNT(*) FROM LeadHistory") == 0
    assert _one(db, "SELECT COUNT(*) FROM OpportunityHistory") >= 150  # always on
    assert "RecordTypeId" not in [r[1] for r in db.execute("PRAGMA table_info(Opportunity)")]
    assert _one(db, "SELECT COUNT(*) FROM RecordType") == 0
    stages = {r[0] for r in db.execute("SELECT DISTINCT StageName FROM Opportunity")}
    assert stages <= set(PIPELINES["New_Business"][1])
    currencies = {r[0] for r in db.execute("SELECT CurrencyIsoCode FROM Opportunity")}
    assert "USD" in currencies and None not in currencies and len(currencies) > 1
    org = db.execute("SELECT * FROM Organization").fetchone()
    assert (org["IsSandbox"], org["OrganizationType"]) == (1, "Unlimited Edition")
    db.close()


def test_audit_fields_coherent_everywhere(db):
    limit = f"{anchor_for().isoformat()}T00:00:00.000+0000"
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE '\\_%' ESCAPE '\\'")]
    for table in tables:
        cols = {r[1] for r in db.execute(f'PRAGMA table_info("{table}")')}
        order = [c for c in ("CreatedDate", "LastModifiedDate", "SystemModstamp") if c in cols]
        chain = " AND ".join(f"{a} <= {b}" for a, b in pairwise(order))
        bad = _one(db, f'SELECT COUNT(*) FROM "{table}" WHERE NOT ({chain or "1"}) '
                       f"OR {order[-1]} > ? OR CreatedById NOT IN (SELECT Id FROM User)", limit)
        assert bad == 0, table
        assert _one(db, f'SELECT COUNT(*) FROM "{table}" WHERE IsDeleted != 0') == 0


@pytest.mark.parametrize("size", [1, 3])
def test_tiny_orgs_are_whole(tmp_path, size):
    db = _org(tmp_path, size=size)
    assert _one(db, "SELECT COUNT(*) FROM Opportunity") == size
    assert _one(db, "SELECT COUNT(*) FROM Account") >= 1
    assert _one(db, "SELECT COUNT(*) FROM User WHERE Username = 'manager@demo.smvue.local'") == 1
    db.close()


def test_progress_is_reported(tmp_path):
    seen = []
    org_cache.cached_org(tmp_path, 50, 1, OrgProfile(), anchor_for(),
                         lambda phase, done, total: seen.append((phase, done, total)))
    assert ("Opportunity", 50, 50) in seen and seen[-1][0] == "done"


def test_fast_ids_are_make_ids():
    ids = Ids()
    for prefix in ("006", "00T", "017", "00q", "02s"):
        assert [ids.next(prefix) for _ in range(4000)] == [make_id(prefix, n)
                                                           for n in range(1, 4001)]
