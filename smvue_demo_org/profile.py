"""What kind of org the demo org pretends to be: edition and the feature toggles admins set.

A profile comes from command-line flags or a small TOML file, for example::

    edition = "Enterprise"        # Professional | Enterprise | Unlimited | Developer
    api_enabled = true            # Professional without the API add-on: false
    team_selling = true           # OpportunityTeamMember exists
    account_teams = true          # AccountTeamMember exists
    history_tracking = true       # LeadHistory / OpportunityFieldHistory have rows
    record_types = true           # Opportunity.RecordTypeId and 3 pipelines
    multi_currency = false        # CurrencyIsoCode on money objects
    email_messages = true         # Enhanced Email: EmailMessage exists
    hidden_fields = ["Opportunity.NextStep"]   # field-level security hides these
    refuse_workflow_rules = false # Metadata API refuses new WorkflowRules (use a Flow)
    session_timeout_seconds = 7200
    daily_api_limit = 100000
    refresh_token_rotation = false
    change_data_capture = ["Opportunity", "Account"]  # objects selected for CDC ([] = off)

or by name: ``lean`` is an org with none of the optional features (no multi-currency, record
types, team selling, history tracking or EmailMessage) — the plainest real org the app must
sync.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

EDITIONS = ("Professional", "Enterprise", "Unlimited", "Developer")


@dataclass(frozen=True)
class OrgProfile:
    edition: str = "Enterprise"
    api_enabled: bool = True
    team_selling: bool = True
    account_teams: bool = True
    history_tracking: bool = True
    record_types: bool = True
    multi_currency: bool = False
    email_messages: bool = True
    hidden_fields: tuple[str, ...] = ()
    refuse_workflow_rules: bool = False
    sandbox: bool = False
    session_timeout_seconds: int = 7200
    daily_api_limit: int = 100_000
    refresh_token_rotation: bool = False
    # Objects the admin selected for Change Data Capture (Setup → Change Data Capture); the
    # Pub/Sub API refuses their channels when they are not selected.
    change_data_capture: tuple[str, ...] = ("Opportunity", "Account", "Contact", "Task",
                                            "Event", "OpportunityContactRole")
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.edition not in EDITIONS:
            raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, not {self.edition!r}")
        for name in self.hidden_fields:
            if name.count(".") != 1:
                raise ValueError(f"hidden field must look like Object.Field, not {name!r}")

    @property
    def organization_type(self) -> str:
        """Organization.OrganizationType as Salesforce spells it."""
        return f"{self.edition} Edition"


    @property
    def outbound_messages_available(self) -> bool:
        """Outbound Messages exist in Enterprise, Unlimited and Developer, not Professional."""
        return self.edition != "Professional"

    def cache_key(self) -> str:
        """The toggles that change generated data (the rest only change what the API shows)."""
        return (f"rt{int(self.record_types)}-cur{int(self.multi_currency)}"
                f"-ts{int(self.team_selling)}-at{int(self.account_teams)}"
                f"-ht{int(self.history_tracking)}-em{int(self.email_messages)}"
                f"-{self.edition[:3].lower()}")


NAMED: dict[str, dict[str, object]] = {
    "lean": {"team_selling": False, "account_teams": False, "history_tracking": False,
             "record_types": False, "multi_currency": False, "email_messages": False},
}


def named_profile(name: str, **overrides: object) -> OrgProfile:
    """A profile by name (``lean``); ValueError for a name we do not know."""
    if name not in NAMED:
        raise ValueError(f"no org profile named {name!r}; known: {', '.join(NAMED)}")
    return replace(OrgProfile(), **{**NAMED[name], **overrides})  # type: ignore[arg-type]


def load_profile(path: Path | None = None, **overrides: object) -> OrgProfile:
    """A profile from an optional TOML file (or a profile name, e.g. ``lean``), then keyword
    overrides (None means "not given")."""
    values: dict[str, object] = {}
    if path is not None and str(path) in NAMED and not Path(path).exists():
        values.update(NAMED[str(path)])
    elif path is not None:
        with open(path, "rb") as fh:
            values.update(tomllib.load(fh))
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(OrgProfile)} - {"extra"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown org profile setting(s): {', '.join(unknown)}")
    for name in ("hidden_fields", "change_data_capture"):
        if name in values:
            values[name] = tuple(values[name])  # type: ignore[arg-type]
    return replace(OrgProfile(), **values)  # type: ignore[arg-type]
