"""Deploy and remove the change-notification automation through the Metadata API (SOAP CRUD).

``deploy_automation`` upserts, per object, a WorkflowOutboundMessage and then its trigger: a
record-triggered Flow (what a 2026 org accepts) or, when the org refuses the flow, a
WorkflowRule (the product page's trigger, still taken by older orgs). ``remove_automation``
undoes it in the order Salesforce requires — deactivate flows, delete flows and rules, then
delete the messages nobody references any more — best effort, listing what is left with the
Setup path an admin would use. Both speak through one minimal transport,
``post(body) -> (status, body)``, that the REST client provides behind its read-only guard.

Neither raises for Salesforce's answers: per-component refusals and a call-level fault (e.g. an
expired session, ``MetadataSessionInvalid``) land in the report next to what did get deployed or
removed, so the caller can always record the truth. Upserts make a re-deploy harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from smvue_tui.salesforce.errors import (
    MetadataFault,
    MetadataSessionInvalid,
    SalesforceError,
    ServerUnavailable,
)
from smvue_tui.salesforce.metadata_defs import (
    API_VERSION,
    AutomationNames,
    default_names,
    outbound_message,
    record_triggered_flow,
    workflow_rule,
)
from smvue_tui.salesforce.metadata_xml import (
    FLOW,
    MAX_COMPONENTS,
    OUTBOUND,
    RULE,
    MetadataComponent,
    MetadataError,
    MetadataResult,
    delete_metadata_envelope,
    parse_results,
    scrub,
    upsert_metadata_envelope,
)

__all__ = [
    "API_VERSION", "SETUP_PATHS", "AutomationNames", "DeployFailure", "DeployReport",
    "DeployedComponent", "Leftover", "MetadataComponent", "MetadataError", "MetadataFault",
    "MetadataResult", "MetadataSessionInvalid", "RefreshToken", "RemovalReport", "SoapPost",
    "default_names", "deploy_automation", "outbound_message", "record_triggered_flow",
    "remove_automation", "workflow_rule",
]

SETUP_PATHS = {
    OUTBOUND: "Setup > Process Automation > Workflow Actions > Outbound Messages",
    RULE: "Setup > Process Automation > Workflow Rules",
    FLOW: "Setup > Process Automation > Flows",
}
_ALREADY_THERE = ("DUPLICATE_DEVELOPER_NAME", "DUPLICATE_VALUE")
# Which trigger is tried first for each ``trigger`` choice; the next is the fallback.
TRIGGER_ORDER = {"auto": (FLOW, RULE), "flow": (FLOW,), "rule": (RULE,)}
TRIGGER_LABELS = {FLOW: "flow", RULE: "workflow rule"}
_ALREADY_GONE = ("INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND")


class SoapPost(Protocol):
    """POST one SOAP body to ``/services/Soap/m/<version>``; answer (HTTP status, body)."""

    async def __call__(self, body: bytes) -> tuple[int, bytes]: ...


RefreshToken = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class DeployedComponent:
    type: str  # WorkflowOutboundMessage / WorkflowRule / Flow
    full_name: str  # Object.Name, or the flow's API name
    object: str
    outbound_message: str | None = None  # for a trigger: the full name of the message it sends
    created: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeployedComponent:
        return cls(str(data["type"]), str(data["full_name"]), str(data["object"]),
                   data.get("outbound_message"), bool(data.get("created", False)))


@dataclass(frozen=True)
class DeployFailure:
    object: str
    type: str
    full_name: str
    reason: str
    errors: tuple[MetadataError, ...] = ()


@dataclass
class DeployReport:
    deployed: list[DeployedComponent] = field(default_factory=list)
    failures: list[DeployFailure] = field(default_factory=list)
    triggers: dict[str, str] = field(default_factory=dict)  # object → WorkflowRule / Flow
    fault: SalesforceError | None = None  # a call-level error that stopped the deploy

    @property
    def live_objects(self) -> list[str]:
        """Objects with both a message and a trigger: their changes are pushed."""
        return list(self.triggers)

    @property
    def ok(self) -> bool:
        return not self.failures and self.fault is None


@dataclass(frozen=True)
class Leftover:
    component: DeployedComponent
    reason: str
    setup_path: str  # where an admin removes it by hand

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component.to_dict(), "reason": self.reason,
                "setup_path": self.setup_path}


@dataclass
class RemovalReport:
    removed: list[DeployedComponent] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    fault: SalesforceError | None = None

    @property
    def ok(self) -> bool:
        return not self.leftovers and self.fault is None


class _Session:
    """Runs CRUD calls: chunks of ≤10, one token refresh on INVALID_SESSION_ID, faults typed."""

    def __init__(self, post: SoapPost, session_id: str, refresh: RefreshToken | None) -> None:
        self._post, self._token, self._refresh = post, session_id, refresh

    def __repr__(self) -> str:  # the token stays out of every repr and traceback
        return "<metadata session>"

    async def _call(self, build: Callable[[str], bytes]) -> list[MetadataResult]:
        refreshed = False
        while True:
            try:
                try:
                    status, answer = await self._post(build(self._token))
                except (OSError, TimeoutError) as exc:  # a transport that did not type it
                    raise ServerUnavailable(f"Metadata API unreachable "
                                            f"({type(exc).__name__})") from None
                return parse_results(answer, status=status, secret=self._token)
            except MetadataSessionInvalid:
                if refreshed or self._refresh is None:
                    raise
                self._token, refreshed = await self._refresh(), True

    async def _chunked(self, items: Sequence[Any], call: Callable[[Sequence[Any]],
                       Awaitable[list[MetadataResult]]]) -> list[MetadataResult]:
        out: list[MetadataResult] = []
        for start in range(0, len(items), MAX_COMPONENTS):
            chunk = items[start:start + MAX_COMPONENTS]
            results = await call(chunk)
            if len(results) != len(chunk):
                raise MetadataFault(f"expected {len(chunk)} results, got {len(results)}")
            out += results
        return out

    async def upsert(self, components: Sequence[MetadataComponent]) -> list[MetadataResult]:
        return await self._chunked(components, lambda chunk: self._call(
            lambda token: upsert_metadata_envelope(token, chunk)))

    async def delete(self, type_: str, full_names: Sequence[str]) -> list[MetadataResult]:
        return await self._chunked(full_names, lambda chunk: self._call(
            lambda token: delete_metadata_envelope(token, type_, chunk)))


def _saved(result: MetadataResult) -> bool:
    return result.success or result.has_code(*_ALREADY_THERE)


# --- deploy --------------------------------------------------------------------------------------


async def deploy_automation(
    post: SoapPost, objects: list[str], endpoint_url: str,
    fields_by_object: dict[str, list[str]], *, session_id: str,
    integration_user: str, refresh: RefreshToken | None = None,
    api_version: str = API_VERSION, trigger: str = "auto",
    names: Callable[[str], AutomationNames] = default_names,
) -> DeployReport:
    """Upsert message + trigger for each object. ``trigger``: "auto" (a record-triggered Flow,
    else a Workflow Rule), "flow" or "rule". ``integration_user`` is the username whose access
    decides field visibility.

    Flow first: since Winter '23 new orgs cannot create Workflow Rules and Salesforce ended
    their support at the end of 2025, so in a 2026 org a rule-first deploy spends a refused
    call per object; an older org that still takes rules but not this flow gets the rule."""
    if trigger not in TRIGGER_ORDER:
        raise ValueError(f"trigger must be auto, rule or flow, not {trigger!r}")
    report = DeployReport()
    session = _Session(post, session_id, refresh)
    messages: dict[str, MetadataComponent] = {}
    for obj in dict.fromkeys(objects):
        try:
            messages[obj] = outbound_message(obj, names(obj).outbound, endpoint_url,
                                             fields_by_object.get(obj, []), integration_user,
                                             api_version=api_version)
        except ValueError as exc:
            report.failures.append(DeployFailure(obj, OUTBOUND, obj, str(exc)))
    builders: dict[str, Callable[[str], MetadataComponent]] = {
        FLOW: lambda obj: record_triggered_flow(obj, names(obj).flow, messages[obj].full_name,
                                                api_version=api_version),
        RULE: lambda obj: workflow_rule(obj, names(obj).rule, messages[obj].full_name),
    }
    try:
        pending = await _upsert_step(session, report, messages, None)
        earlier: dict[str, MetadataResult] | None = None
        order = TRIGGER_ORDER[trigger]
        for step, kind in enumerate(order):
            triggers: dict[str, MetadataComponent] = {}
            for obj in pending:
                try:
                    triggers[obj] = builders[kind](obj)
                except ValueError as exc:
                    name = names(obj).flow if kind == FLOW else names(obj).rule
                    report.failures.append(DeployFailure(obj, kind, name, str(exc)))
            refused: dict[str, MetadataResult] | None = {} if step + 1 < len(order) else None
            await _upsert_step(session, report, triggers, messages, refused, earlier)
            pending, earlier = list(refused or {}), refused
    except SalesforceError as exc:
        report.fault = exc
    return report


async def _upsert_step(session: _Session, report: DeployReport,
                       components: dict[str, MetadataComponent],
                       messages: dict[str, MetadataComponent] | None,
                       refused: dict[str, MetadataResult] | None = None,
                       earlier: dict[str, MetadataResult] | None = None) -> list[str]:
    """Upsert ``components`` (object → component, one type); record what happened; return the
    objects that succeeded. A failure goes into ``refused`` when given (a fallback follows),
    else into the report, with the earlier refusal (``earlier``) named in the reason."""
    if not components:
        return []
    results = await session.upsert(list(components.values()))
    done = []
    for (obj, comp), result in zip(components.items(), results, strict=True):
        if _saved(result):
            target = messages[obj].full_name if messages else None
            report.deployed.append(DeployedComponent(comp.type, comp.full_name, obj, target,
                                                     result.created))
            if comp.type != OUTBOUND:
                report.triggers[obj] = comp.type
            done.append(obj)
        elif refused is not None:
            refused[obj] = result
        else:
            reason = result.describe()
            if earlier and obj in earlier:
                first = TRIGGER_LABELS[FLOW if comp.type == RULE else RULE]
                reason = (f"{first} refused ({earlier[obj].describe()}); "
                          f"{TRIGGER_LABELS[comp.type]}: {reason}")
            report.failures.append(DeployFailure(obj, comp.type, comp.full_name, reason,
                                                 tuple(result.errors)))
    return done


# --- remove --------------------------------------------------------------------------------------


async def remove_automation(post: SoapPost,
                            deployed: DeployReport | Iterable[DeployedComponent], *,
                            session_id: str, refresh: RefreshToken | None = None,
                            api_version: str = API_VERSION) -> RemovalReport:
    """Deactivate flows → delete flows and rules → delete the messages no trigger still uses."""
    items = list(deployed.deployed if isinstance(deployed, DeployReport) else deployed)
    report = RemovalReport()
    session = _Session(post, session_id, refresh)
    pending = list(items)
    notes: dict[str, str] = {}
    try:
        await _deactivate_flows(session, [c for c in items if c.type == FLOW], notes,
                                api_version)
        for type_ in (FLOW, RULE):
            await _delete_step(session, report, [c for c in items if c.type == type_], notes)
        stuck = {lo.component.outbound_message or lo.component.object for lo in report.leftovers}
        messages = []
        for comp in (c for c in items if c.type == OUTBOUND):
            if comp.full_name in stuck or comp.object in stuck:
                _leftover(report, comp, "still used by a trigger that could not be removed")
            else:
                messages.append(comp)
        await _delete_step(session, report, messages, notes)
    except SalesforceError as exc:
        report.fault = exc
        reason = scrub(f"not removed: {exc.describe()}")
        done = {id(c) for c in report.removed} | {id(lo.component) for lo in report.leftovers}
        for comp in pending:
            if id(comp) not in done:
                _leftover(report, comp, reason)
    return report


def _leftover(report: RemovalReport, comp: DeployedComponent, reason: str) -> None:
    report.leftovers.append(Leftover(comp, reason, SETUP_PATHS.get(comp.type, "Setup")))


async def _deactivate_flows(session: _Session, flows: list[DeployedComponent],
                            notes: dict[str, str], api_version: str) -> None:
    """An active flow cannot be deleted: upsert it as Draft, then Obsolete for the refusals."""
    todo = [c for c in flows if c.outbound_message]
    for status in ("Draft", "Obsolete"):
        if not todo:
            return
        comps = [record_triggered_flow(c.object, c.full_name, c.outbound_message or "", status,
                                       api_version=api_version) for c in todo]
        results = await session.upsert(comps)
        failed = []
        for comp, result in zip(todo, results, strict=True):
            if not _saved(result):
                notes[comp.full_name] = f"deactivation refused ({result.describe()})"
                failed.append(comp)
            else:
                notes.pop(comp.full_name, None)
        todo = failed


async def _delete_step(session: _Session, report: RemovalReport,
                       comps: list[DeployedComponent], notes: dict[str, str]) -> None:
    if not comps:
        return
    results = await session.delete(comps[0].type, [c.full_name for c in comps])
    for comp, result in zip(comps, results, strict=True):
        if result.success or result.has_code(*_ALREADY_GONE):
            report.removed.append(comp)
        else:
            note = notes.get(comp.full_name)
            reason = result.describe() + (f"; {note}" if note else "")
            _leftover(report, comp, reason)
