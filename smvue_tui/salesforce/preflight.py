"""The check run right after login: can SMVue read what it needs from this org?

The answer is a report the connect screen shows line by line (``ok`` / ``warn`` / ``fail``, each
with the product page's wording and what the user can do). It costs two counted API calls:
describe global, then one ``/composite`` carrying the Organization query and the describes of
the required objects (the unauthenticated versions list is not counted).

Salesforce's answers never raise here — they become lines. Only login errors
(``AuthorizationError``: the session is dead and refreshing did not help) propagate, because the
only fix is to log in again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from smvue_tui.salesforce.client import SalesforceClient, composite_error
from smvue_tui.salesforce.errors import (
    ApiDisabled,
    AuthorizationError,
    PermissionDenied,
    SalesforceError,
)

__all__ = ["FAIL", "OK", "OPPORTUNITY_FIELDS", "OPTIONAL_OBJECTS", "REQUIRED_OBJECTS", "WARN",
           "CheckLine", "PreflightReport", "run_preflight"]

OK, WARN, FAIL = "ok", "warn", "fail"

REQUIRED_OBJECTS = ("Opportunity", "Account", "Contact", "User")
# Optional object → what the user loses without it.
OPTIONAL_OBJECTS: dict[str, str] = {
    "Event": "meetings won't appear in activity history",
    "Task": "tasks and calls won't appear in activity history",
    "EmailMessage": "email activity won't appear (needs Salesforce email integration)",
    "Lead": "leads won't be imported",
    "OpportunityHistory": "deal stage history won't be imported",
    "LeadHistory": "lead status history won't be imported (needs field history tracking)",
    "OpportunityTeamMember": "deal collaborators won't be imported (needs Opportunity Teams)",
    "AccountTeamMember": "account collaborators won't be imported (needs Account Teams)",
    "RecordType": "record types won't show as separate pipelines",
}
# The product page's standard Opportunity fields. The sync treats every one as required (see
# sync/plan.py): without any of them no deal can be synced, so a hidden one is a fail.
OPPORTUNITY_FIELDS = ("Name", "Amount", "CloseDate", "StageName", "Probability", "OwnerId",
                      "AccountId", "CreatedDate", "LastModifiedDate", "IsClosed", "IsWon")
# Editions with Outbound Messages (protocol reference §5): the push channel.
OUTBOUND_EDITIONS = frozenset({"Enterprise", "Unlimited", "Developer", "Performance"})
ORG_SOQL = "SELECT Id, Name, IsSandbox, OrganizationType FROM Organization"

EDITION_NEEDS_API = ("Your Salesforce edition must support API access (Professional, "
                     "Enterprise, or Unlimited)")
PROFILE_NEEDS_API = "Ensure you have API Enabled permission in your Salesforce profile"
NO_PERMISSION = "Insufficient permissions to access Salesforce data"
FLS_REMEDY = "Verify field-level security allows read access to standard Opportunity fields"
ASK_ADMIN = "Contact your Salesforce admin if object/field permissions are restricted"


@dataclass(frozen=True)
class CheckLine:
    name: str
    status: str  # ok / warn / fail
    message: str
    remedy: str = ""

    def __str__(self) -> str:
        text = f"[{self.status}] {self.name}: {self.message}"
        return f"{text} — {self.remedy}" if self.remedy else text


@dataclass
class PreflightReport:
    lines: list[CheckLine] = field(default_factory=list)
    is_sandbox: bool | None = None  # None when the Organization could not be read
    edition: str | None = None  # OrganizationType, e.g. "Enterprise Edition"
    org_name: str | None = None
    org_id: str | None = None

    @property
    def ok(self) -> bool:
        """No line failed: SMVue can sync this org (warnings only cost features)."""
        return all(line.status != FAIL for line in self.lines)

    def line(self, name: str) -> CheckLine | None:
        return next((line for line in self.lines if line.name == name), None)

    def add(self, name: str, status: str, message: str, remedy: str = "") -> None:
        self.lines.append(CheckLine(name, status, message, remedy))


async def run_preflight(client: SalesforceClient) -> PreflightReport:
    """Check API access, edition, environment, objects and Opportunity fields (see module doc).

    Also pins the client to the org's newest API version if ours is newer (``negotiate_version``)
    and leaves the describe-global answer in the client's cache for the sync's field plan."""
    report = PreflightReport()
    try:
        await client.negotiate_version()
        listing = await client.describe_global()
        sobjects = listing["sobjects"]
    except AuthorizationError:
        raise
    except SalesforceError as exc:
        report.lines.append(_api_failure(exc))
        return report
    except (KeyError, TypeError):
        report.add("API access", FAIL, "Salesforce sent an unexpected object list",
                   "Try again; if it persists, contact support with your Salesforce Org ID.")
        return report
    report.add("API access", OK, f"API access works (API v{client.api_version})")
    readable = {str(o.get("name")) for o in sobjects
                if isinstance(o, dict) and o.get("queryable", True)}
    describable = [name for name in REQUIRED_OBJECTS if name in readable]
    try:
        items = await client.composite(
            [{"url": f"query?q={quote(ORG_SOQL)}", "referenceId": "org"},
             *({"url": f"sobjects/{name}/describe", "referenceId": name}
               for name in describable)])
    except AuthorizationError:
        raise
    except SalesforceError as exc:
        report.add("Salesforce", FAIL, exc.describe(), exc.remedy)
        return report
    answers = {str(item.get("referenceId")): item for item in items if isinstance(item, dict)}
    _organization_lines(report, answers.get("org"))
    describes = {name: answers[name]["body"] for name in describable
                 if name in answers and composite_error(answers[name]) is None
                 and isinstance(answers[name].get("body"), dict)}
    _required_objects_line(report, describes)
    if "Opportunity" in describes:
        _opportunity_fields_line(report, describes["Opportunity"])
    _optional_object_lines(report, readable)
    return report


def _api_failure(exc: SalesforceError) -> CheckLine:
    if isinstance(exc, ApiDisabled):
        if exc.code == "API_CURRENTLY_DISABLED":
            return CheckLine("API access", FAIL,
                             "Salesforce API access is disabled for your user",
                             f"{PROFILE_NEEDS_API}. {EDITION_NEEDS_API}.")
        return CheckLine("API access", FAIL,
                         f"Salesforce API access is not enabled for this org. "
                         f"{EDITION_NEEDS_API}.",
                         f"{PROFILE_NEEDS_API}. Professional Edition needs Salesforce's API "
                         "add-on.")
    if isinstance(exc, PermissionDenied):
        return CheckLine("API access", FAIL, NO_PERMISSION, f"{PROFILE_NEEDS_API}. {ASK_ADMIN}.")
    return CheckLine("API access", FAIL, exc.describe(), exc.remedy)


def _organization_lines(report: PreflightReport, answer: dict[str, Any] | None) -> None:
    error = composite_error(answer) if answer else None
    body = answer.get("body") if answer and error is None else None
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        why = error.describe() if error else "no Organization record"
        report.add("Organization", WARN,
                   f"Could not read the organization's edition and environment ({why})",
                   "Check in Salesforce Setup > Company Information that this is the org you "
                   "meant to connect.")
        return
    org = records[0]
    report.org_name = str(org.get("Name") or "") or None
    report.org_id = str(org.get("Id") or "") or None
    report.edition = str(org.get("OrganizationType") or "") or None
    report.is_sandbox = bool(org.get("IsSandbox"))
    edition = report.edition or "unknown edition"
    if edition.removesuffix(" Edition") in OUTBOUND_EDITIONS:
        report.add("Edition", OK, f"{edition}: near-real-time updates (Outbound Messages) "
                   "are available")
    else:
        report.add("Edition", WARN,
                   f"{edition}: Outbound Messages — near-real-time updates — are not "
                   "available; updates come from the scheduled resync",
                   "Nothing to do: the scheduled resync keeps data current; for an immediate "
                   "refresh press y in the app, or run `smvue-tui sync`.")
    named = f"{report.org_name or 'unnamed org'} ({report.org_id or 'no Org ID'})"
    if report.is_sandbox:
        report.add("Environment", WARN, f"Connected to a SANDBOX: {named}",
                   "If you meant production, disconnect and reconnect choosing Production "
                   "(login.salesforce.com); Sandbox is test.salesforce.com.")
    else:
        report.add("Environment", OK, f"Connected to production: {named}")


def _required_objects_line(report: PreflightReport, describes: dict[str, Any]) -> None:
    missing = [name for name in REQUIRED_OBJECTS if name not in describes]
    if missing:
        report.add("Required objects", FAIL,
                   f"{NO_PERMISSION}: cannot read {', '.join(missing)}",
                   f"{PROFILE_NEEDS_API}. {ASK_ADMIN}: SMVue needs read access to "
                   f"{', '.join(REQUIRED_OBJECTS)}.")
    else:
        report.add("Required objects", OK, f"{', '.join(REQUIRED_OBJECTS)} are readable")


def _opportunity_fields_line(report: PreflightReport, describe: dict[str, Any]) -> None:
    names = {f.get("name") for f in describe.get("fields") or [] if isinstance(f, dict)}
    hidden = [name for name in OPPORTUNITY_FIELDS if name not in names]
    if hidden:
        report.add("Opportunity fields", FAIL,
                   f"{NO_PERMISSION}: standard Opportunity "
                   f"{'field' if len(hidden) == 1 else 'fields'} hidden or missing: "
                   f"{', '.join(hidden)}; deals cannot be synced without them",
                   f"{FLS_REMEDY} ({', '.join(hidden)}). {ASK_ADMIN}.")
    else:
        report.add("Opportunity fields", OK,
                   f"All {len(OPPORTUNITY_FIELDS)} standard Opportunity fields are readable")


def _optional_object_lines(report: PreflightReport, readable: set[str]) -> None:
    available = [name for name in OPTIONAL_OBJECTS if name in readable]
    if available:
        report.add("Optional objects", OK, f"Available: {', '.join(available)}")
    for name, loss in OPTIONAL_OBJECTS.items():
        if name not in readable:
            report.add(name, WARN, f"{name} not available — {loss}",
                       "Optional: ask your Salesforce admin to enable it or grant read access "
                       "if you need it.")
