"""Whose team: in a team store each manager sees their own reps.

A one-manager store (SQLite, ``identity.current_manager() == ""``) keeps its meaning: the team
is every coached member. In a team store the manager hierarchy already in ``TeamMember``
(``manager``) is the mapping per manager: a manager's team is themselves and the members who
report to them, and choosing a rep in the Team screen makes them report to whoever chose.
``my_member`` is this process's manager as a team member — found by their Salesforce user
(username or email as the identity) or by email, added once when missing. A manager added by
email before the store knew their Salesforce user is that user's member once it arrives: the
row is linked to it, or merged into the user's own row (reports, role, coached flag kept).
"""

from __future__ import annotations

from typing import Any

from peewee import fn

from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres
from smvue_tui.store.identity import current_manager
from smvue_tui.store.postgres import lock_for_transaction


def per_manager() -> bool:
    """True in a team store: teams, overrides and authors are per manager."""
    return bool(current_manager())


def my_member() -> m.TeamMember | None:
    """The manager this process works for, as a TeamMember (None in a one-manager store).
    Added once: two processes of one manager starting together (two terminals, a TUI and
    ``inspect``) must not each add a row — the second would write its team under a member
    every later read ignores. The add happens under a lock the database holds for the
    transaction (SQLite's write lock, taken at BEGIN IMMEDIATE; an advisory lock per manager on
    PostgreSQL), and looks again first."""
    key = current_manager().lower()
    if not key:
        return None
    user, member, by_email = _lookup(key)
    if member is not None and not by_email:
        return member
    db = m.TeamMember._meta.database
    with db.atomic():
        if is_postgres(db):
            lock_for_transaction(db, f"member:{key}")
        user, member, by_email = _lookup(key)  # another process may have done it meanwhile
        if user is None:
            if member is not None:
                return member
            # not (yet) a Salesforce user the store knows: added by hand
            return m.TeamMember.create(name=current_manager(), email=current_manager(),
                                       role="Manager", coached=False)
        if member is None and by_email:  # added by email before the sync knew the user
            member, by_email = by_email[0], by_email[1:]
            member.sf_user_id, member.name = user.id, user.name or member.name
            member.save()
        if member is None:
            return m.TeamMember.create(sf_user_id=user.id, name=user.name or key,
                                       email=user.email or key, role="Manager", coached=False)
        for row in by_email:
            _merge(row, into=member)
        return member


def _lookup(key: str) -> tuple[m.SfUser | None, m.TeamMember | None, list[m.TeamMember]]:
    """The manager's Salesforce user (by username or email), their member row, and (with a
    user) the rows added by hand with the manager's or the user's email — one query each."""
    user = (m.SfUser.select().where((fn.LOWER(m.SfUser.username) == key)
                                    | (fn.LOWER(m.SfUser.email) == key))
            .order_by(m.SfUser.is_active.desc(), m.SfUser.id).first())
    t = m.TeamMember
    if user is None:
        return None, t.select().where(fn.LOWER(t.email) == key).order_by(t.id).first(), []
    emails = sorted({key, (user.email or key).lower()})
    rows = list(t.select().where((t.sf_user_id == user.id) | (
        t.sf_user_id.is_null() & fn.LOWER(t.email).in_(emails))).order_by(t.id))
    linked = next((r for r in rows if r.sf_user_id == user.id), None)
    return user, linked, [r for r in rows if r.sf_user_id is None]


def _merge(row: m.TeamMember, *, into: m.TeamMember) -> None:
    """``row`` (the manager added by hand) folded into ``into`` (their Salesforce user's
    member), then deleted: its reports report to ``into``; its role unless ``into`` has more
    than the default, its coached flag, email, manager and age kept. (Notes and action items
    carry the manager key, not a member: they stay as they are.)"""
    t = m.TeamMember
    t.update(manager=into.id).where(t.manager == row.id).execute()
    if into.role == t.role.default and row.role != into.role:
        into.role = row.role
    into.coached = into.coached or row.coached
    into.email = into.email or row.email
    if into.manager_id == row.id:  # never a member of their own team
        into.manager = None
    if into.manager_id is None and row.manager_id not in (None, into.id, row.id):
        into.manager = row.manager_id
    into.created_at = min(into.created_at, row.created_at)
    into.save()
    row.delete_instance()


def my_team_owner_ids(manager: m.TeamMember) -> Any:
    """SF user Ids of ``manager`` and of the members reporting to them (a subquery)."""
    t = m.TeamMember
    return t.select(t.sf_user_id).where(((t.id == manager.id) | (t.manager == manager.id))
                                        & t.sf_user_id.is_null(False))


def mapped_team() -> Any:
    """SF user Ids of the mapped team: coached members linked to a Salesforce user; in a team
    store, this manager's reports (the team is mapped once they have one)."""
    return _mapped(my_member())


def team_owners() -> Any | None:
    """SF user Ids whose deals "my team" shows — the mapped team, in a team store with the
    manager too — or None while no team is mapped (then every deal shows)."""
    me = my_member()  # once: each look-up is a query, and filters run per keypress
    team = _mapped(me)
    if not team.exists():
        return None
    return my_team_owner_ids(me) if me is not None else team


def _mapped(me: m.TeamMember | None) -> Any:
    if me is not None:
        return my_team_owner_ids(me).where(m.TeamMember.id != me.id)
    return m.TeamMember.select(m.TeamMember.sf_user_id).where(
        m.TeamMember.sf_user_id.is_null(False) & (m.TeamMember.coached == True))  # noqa: E712
