"""Team Member Mapping: which Salesforce users are the reps a manager coaches.

Plain store logic (no Textual). Every Salesforce user who owns deals is listed with their deal
count and open amount; choosing reps, roles and managers writes ``TeamMember`` rows, which no
sync ever touches. Rows are addressed by a *key*: the Salesforce user Id, or ``member:<id>`` for
a member added by hand (who owns nothing in Salesforce yet).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import fn

from smvue_tui.store import models as m
from smvue_tui.store.team_scope import my_member, per_manager

ROLES = ("AE", "SDR", "CSM", "SE", "AM", "Manager", "Other")
_HAND = "member:"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TeamError(ValueError):
    """Bad input for a team change; the message is meant for the user."""


@dataclass
class TeamRow:
    key: str  # Salesforce user Id, or member:<id> for a hand-added member
    name: str
    email: str | None = None
    is_active: bool = True
    deals: int = 0
    open_amount: dict[str | None, float] = field(default_factory=dict)  # currency → sum
    member_id: int | None = None
    coached: bool = False
    role: str | None = None
    manager_id: int | None = None
    manager_name: str | None = None

    @property
    def is_new(self) -> bool:
        """Owns deals in Salesforce but was never imported or chosen."""
        return self.member_id is None

    @property
    def by_hand(self) -> bool:
        return self.key.startswith(_HAND)


def member_key(member: m.TeamMember) -> str:
    return member.sf_user_id or f"{_HAND}{member.id}"


def format_amount(amounts: dict[str | None, float]) -> str:
    """``120,500`` for one currency (or an org without currencies); per currency otherwise."""
    if not amounts:
        return "0"
    if len(amounts) == 1:
        (code, total), = amounts.items()
        return f"{code} {total:,.0f}" if code else f"{total:,.0f}"
    return " · ".join(f"{code or '?'} {total:,.0f}" for code, total in sorted(
        amounts.items(), key=lambda kv: kv[0] or ""))


def _owner_stats() -> tuple[dict[str, int], dict[str, dict[str | None, float]]]:
    o = m.Opportunity
    counts = dict(o.select(o.owner_id, fn.COUNT(o.id)).where(o.owner_id.is_null(False))
                  .group_by(o.owner_id).tuples())
    amounts: dict[str, dict[str | None, float]] = defaultdict(dict)
    for owner, currency, total in (o.select(o.owner_id, o.currency_iso_code,
                                            fn.SUM(fn.COALESCE(o.amount, 0)))
                                   .where(o.owner_id.is_null(False), o.is_closed == False)  # noqa: E712
                                   .group_by(o.owner_id, o.currency_iso_code).tuples()):
        amounts[owner][currency] = float(total or 0)
    return counts, amounts


def team_rows() -> list[TeamRow]:
    """Every deal owner and every team member, by name."""
    counts, amounts = _owner_stats()
    me = my_member()  # a team store: "coached" = reports to this manager
    members = list(m.TeamMember.select())
    by_id = {t.id: t for t in members}
    wanted = set(counts) | {t.sf_user_id for t in members if t.sf_user_id}
    users = {u.id: u for u in m.SfUser.select().where(m.SfUser.id.in_(list(wanted)))}
    rows: dict[str, TeamRow] = {}
    for owner in counts:
        user = users.get(owner)
        rows[owner] = TeamRow(key=owner, name=user.name if user and user.name else owner,
                              email=user.email if user else None,
                              is_active=bool(user.is_active) if user else False,
                              deals=counts[owner], open_amount=dict(amounts.get(owner, {})))
    for member in members:
        key = member_key(member)
        row = rows.get(key) or TeamRow(key=key, name=member.name, email=member.email)
        user = users.get(member.sf_user_id or "")
        if user is not None:
            row.is_active = bool(user.is_active)
        manager = by_id.get(member.manager_id) if member.manager_id else None
        row.member_id, row.coached, row.role = member.id, member.coached, member.role
        if me is not None:
            row.coached = member.manager_id == me.id
        row.manager_id = manager.id if manager else None
        row.manager_name = manager.name if manager else None
        rows[key] = row
    # By name only: selecting a rep must not move the row under the cursor.
    return sorted(rows.values(), key=lambda r: (r.name.lower(), r.key))


def new_owners() -> list[TeamRow]:
    """Deal owners not yet in the team (users who appeared since the last import)."""
    return [row for row in team_rows() if row.is_new]


def default_manager() -> m.TeamMember | None:
    """The person logged in (the connection's user) as a team member, created if missing; in a
    team store, this process's manager (``team_scope.my_member``)."""
    if per_manager():
        return my_member()
    conn = (m.Connection.select().where(m.Connection.disconnected_at.is_null())
            .order_by(m.Connection.connected_at.desc()).first())
    if conn is None or not conn.user_id:
        return None
    member = m.TeamMember.get_or_none(m.TeamMember.sf_user_id == conn.user_id)
    if member is not None:
        return member
    user = m.SfUser.get_or_none(m.SfUser.id == conn.user_id)
    name = (user.name if user else None) or conn.username or conn.user_id
    return m.TeamMember.create(sf_user_id=conn.user_id, name=name,
                               email=user.email if user else conn.username,
                               role="Manager", coached=False)


def _member_for(key: str) -> m.TeamMember | None:
    if key.startswith(_HAND):
        return m.TeamMember.get_or_none(m.TeamMember.id == int(key[len(_HAND):]))
    return m.TeamMember.get_or_none(m.TeamMember.sf_user_id == key)


def _ensure_member(key: str, *, coached: bool,
                   manager: m.TeamMember | None = None) -> m.TeamMember:
    """The member ``key`` names, added when missing (``manager``: a new member's, else the
    default manager)."""
    member = _member_for(key)
    if member is not None:
        return member
    if key.startswith(_HAND):
        raise TeamError(f"no team member {key}")
    user = m.SfUser.get_or_none(m.SfUser.id == key)
    if manager is None:
        manager = default_manager()
    return m.TeamMember.create(sf_user_id=key, name=(user.name if user else None) or key,
                               email=user.email if user else None, role="AE",
                               manager=manager.id if manager else None, coached=coached)


def set_coached(key: str, coached: bool) -> m.TeamMember:
    """Select (or unselect) a user as a rep to coach; a new rep gets the default manager. In
    a team store: the rep joins (or leaves) this manager's team, nobody else's."""
    if per_manager():
        return _set_in_my_team(key, coached, my_member())
    with m.TeamMember._meta.database.atomic():
        member = _ensure_member(key, coached=coached)
        manager = default_manager() if coached and member.manager_id is None else None
        if manager is not None and manager.id != member.id:
            member.manager = manager.id
        if member.coached != coached or manager is not None:
            member.coached = coached
            member.save()
    return member


def _set_in_my_team(key: str, mine: bool, me: m.TeamMember | None) -> m.TeamMember:
    assert me is not None  # a team store always has this process's manager
    with m.TeamMember._meta.database.atomic():
        member = _ensure_member(key, coached=mine, manager=me)
        if member.id == me.id:
            raise TeamError("you lead this team: choose the reps who report to you")
        if mine and member.manager_id != me.id:
            member.manager, member.coached = me.id, True
            member.save()
        elif not mine and member.manager_id == me.id:
            member.manager = None
            member.save()
    return member


def toggle_coached(key: str) -> m.TeamMember:
    member = _member_for(key)
    if per_manager():
        me = my_member()  # once: set_coached would look it up again
        return _set_in_my_team(key, not (member is not None and me is not None
                                         and member.manager_id == me.id), me)
    return set_coached(key, not (member.coached if member else False))


def next_role(role: str | None, step: int = 1) -> str:
    """The role after ``role`` in ``ROLES`` (wrapping); unknown roles start at AE."""
    if role not in ROLES:
        return ROLES[0]
    return ROLES[(ROLES.index(role) + step) % len(ROLES)]


def set_role(key: str, role: str) -> m.TeamMember:
    if role not in ROLES:
        raise TeamError(f"role must be one of {', '.join(ROLES)}")
    with m.TeamMember._meta.database.atomic():
        member = _ensure_member(key, coached=False)
        if member.role != role:
            member.role = role
            member.save()
    return member


def manager_choices() -> list[m.TeamMember]:
    """Who can manage: the person logged in first, then every member whose role is Manager."""
    me = default_manager()
    managers = [t for t in m.TeamMember.select().where(m.TeamMember.role == "Manager")
                .order_by(m.TeamMember.name, m.TeamMember.id) if me is None or t.id != me.id]
    return [me, *managers] if me is not None else managers


def set_manager(key: str, manager_id: int | None) -> m.TeamMember:
    with m.TeamMember._meta.database.atomic():
        member = _ensure_member(key, coached=False)
        if manager_id is not None:
            if manager_id == member.id:
                raise TeamError("a team member cannot be their own manager")
            if m.TeamMember.get_or_none(m.TeamMember.id == manager_id) is None:
                raise TeamError(f"no team member with id {manager_id}")
        if member.manager_id != manager_id:
            member.manager = manager_id
            member.save()
    return member


def cycle_manager(key: str) -> m.TeamMember:
    """Give the member the next manager in ``manager_choices`` (skipping themselves)."""
    with m.TeamMember._meta.database.atomic():
        member = _ensure_member(key, coached=False)
        ids = [t.id for t in manager_choices() if t.id != member.id]
        if not ids:
            raise TeamError("no manager to choose: set someone's role to Manager first")
        at = ids.index(member.manager_id) if member.manager_id in ids else -1
        return set_manager(key, ids[(at + 1) % len(ids)])


def import_from_crm() -> int:
    """Add every new deal owner as a rep (AE, default manager; inactive users unselected).

    Returns how many were added. Running it again adds nothing.
    """
    added = 0
    with m.TeamMember._meta.database.atomic():
        manager = default_manager()
        for row in new_owners():
            m.TeamMember.create(sf_user_id=row.key, name=row.name, email=row.email, role="AE",
                                coached=row.is_active,
                                manager=manager.id if manager and manager.sf_user_id != row.key
                                else None)
            added += 1
    return added


def add_member(name: str, email: str = "", role: str = "AE",
               manager_id: int | None = None) -> m.TeamMember:
    """Add a team member by hand (someone who owns no deals yet)."""
    name, email = name.strip(), email.strip()
    if not name:
        raise TeamError("name is required")
    if email and not _EMAIL.match(email):
        raise TeamError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise TeamError(f"role must be one of {', '.join(ROLES)}")
    with m.TeamMember._meta.database.atomic():
        if manager_id is not None and m.TeamMember.get_or_none(
                m.TeamMember.id == manager_id) is None:
            raise TeamError(f"no team member with id {manager_id}")
        if email and m.TeamMember.select().where(
                fn.LOWER(m.TeamMember.email) == email.lower()).exists():
            raise TeamError(f"a team member with email {email} already exists")
        return m.TeamMember.create(name=name, email=email or None, role=role,
                                   manager=manager_id, coached=True)
