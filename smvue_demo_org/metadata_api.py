"""The demo org's Metadata API (SOAP): CRUD calls for the app's change-notification automation.

``POST /services/Soap/m/{version}`` answers createMetadata, updateMetadata, upsertMetadata,
readMetadata and deleteMetadata for WorkflowOutboundMessage, WorkflowRule and Flow. What is
accepted lives in metadata_rules.py, the deployed state in automation.py.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

from aiohttp import web

from smvue_demo_org.automation import OUTBOUND, RULE, TYPES, AutomationRegistry, one
from smvue_demo_org.metadata_rules import (
    check_sequence,
    normalize_booleans,
    validate_delete,
    validate_flow,
    validate_outbound,
    validate_rule,
)
from smvue_demo_org.metadata_xml import (
    MD,
    Body,
    ResultError,
    SoapCall,
    SoapFault,
    fault_xml,
    invalid_element,
    local,
    parse_envelope,
    record_xml,
    response_xml,
    result_xml,
    sf_fault,
    to_body,
    xsi_type,
)
from smvue_demo_org.org import DemoOrg

log = logging.getLogger(__name__)

MAX_COMPONENTS = 10
MIN_VERSION = 31  # upsertMetadata and the CRUD calls as used here
_ROLLED_BACK = ResultError("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                           "Record rolled back because not all records were valid and the "
                           "request was using AllOrNone header")


def invalid_session() -> SoapFault:
    return sf_fault("INVALID_SESSION_ID",
                    "Invalid Session ID found in SessionHeader: Illegal Session")


def _too_many(count: int) -> SoapFault:
    return sf_fault("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                    f"{MAX_COMPONENTS} records in this operation (got {count})")


def _check_type(type_: str | None) -> str:
    if type_ not in TYPES:
        raise sf_fault("INVALID_TYPE", f"Unknown type name '{type_ or ''}' specified. The demo "
                       f"org supports {', '.join(TYPES)}.")
    return type_


class MetadataApi:
    def __init__(self, org: DemoOrg) -> None:
        if org.automation is None:
            org.automation = AutomationRegistry()
        self.org = org
        self._calls: dict[str, Callable[[SoapCall], str]] = {
            "createMetadata": lambda c: self._save(c, "create"),
            "updateMetadata": lambda c: self._save(c, "update"),
            "upsertMetadata": lambda c: self._save(c, "upsert"),
            "deleteMetadata": self._delete,
            "readMetadata": self._read,
        }

    @property
    def registry(self) -> AutomationRegistry:
        return self.org.automation

    async def handle(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        except SoapFault as exc:
            log.info("metadata API fault %s", exc.code)
            fault = exc
        except Exception:  # a bug in the demo org must still answer like Salesforce
            log.exception("demo org: unexpected error in the Metadata API")
            fault = sf_fault("UNKNOWN_EXCEPTION", "An unexpected error occurred.")
        return web.Response(status=500, body=fault_xml(fault), content_type="text/xml",
                            charset="utf-8")

    async def _handle(self, request: web.Request) -> web.Response:
        faults = getattr(self.org, "faults", None)
        if faults is not None:
            await faults.delay()
        if not request.headers.get("SOAPAction", "").strip():
            # Salesforce refuses an empty value too, which is why clients send '' or ""
            raise SoapFault("soapenv:Client", "No SOAPAction header!")
        version = request.match_info["version"]
        latest = int(float(self.org.latest_version))
        if not re.fullmatch(r"\d+\.0", version) or not MIN_VERSION <= int(version[:-2]) \
                <= latest:
            raise sf_fault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
        if not self.org.profile.api_enabled:
            raise sf_fault("API_DISABLED_FOR_ORG",
                           "API is not enabled for this Organization or Partner")
        call = parse_envelope(await request.read())
        await self._authenticate(call.session_id)
        handler = self._calls.get(call.operation)
        if handler is None:
            raise SoapFault("soapenv:Client",
                            f"No operation available for request {{{MD}}}{call.operation}"
                            ", please check the WSDL for the service.")
        body = response_xml(call.operation, handler(call))
        return web.Response(status=200, body=body, content_type="text/xml", charset="utf-8")

    async def _authenticate(self, session_id: str | None) -> None:
        if not session_id:
            raise invalid_session()
        session = self.org.tokens.check_access(session_id)
        if inspect.isawaitable(session):
            session = await session
        if session is None:
            raise invalid_session()
        usage = getattr(self.org, "usage", None)
        if usage is not None and hasattr(usage, "record"):
            if usage.exhausted():
                raise sf_fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            usage.record()

    # --- the calls ---------------------------------------------------------------------------

    def _components(self, params: Element) -> tuple[str, list[tuple[str, Body]]]:
        """The ``metadata`` elements of a save call: one type, each as (fullName, body)."""
        elements = list(params)
        for el in elements:
            if el.tag != f"{{{MD}}}metadata":
                raise invalid_element(el)
        if len(elements) > MAX_COMPONENTS:
            raise _too_many(len(elements))
        types = {xsi_type(el) for el in elements}
        if len(types) > 1:
            raise sf_fault("INVALID_TYPE", "All metadata in one call must be of the same type, "
                           f"got {', '.join(sorted(str(t) for t in types))}")
        type_ = _check_type(types.pop()) if types else OUTBOUND
        out = []
        for el in elements:
            check_sequence(type_, [local(child.tag) for child in el])
            body = to_body(el)
            full_name = one(body, "fullName")
            body.pop("fullName", None)
            normalize_booleans(type_, body)
            out.append((full_name, body))
        return type_, out

    def _validate(self, reg: AutomationRegistry, type_: str, full_name: str, body: Body, *,
                  creating: bool) -> list[ResultError]:
        if type_ == OUTBOUND:
            return validate_outbound(self.org, full_name, body)
        if type_ == RULE:
            return validate_rule(self.org, reg, full_name, body, creating=creating)
        return validate_flow(self.org, reg, full_name, body)

    def _save(self, call: SoapCall, mode: str) -> str:
        type_, components = self._components(call.params)
        staged = self.registry.clone()
        results: list[tuple[str, list[ResultError], bool]] = []
        for full_name, body in components:
            exists = staged.get(type_, full_name) is not None
            if not full_name:
                errors = [ResultError("FIELD_INTEGRITY_EXCEPTION",
                                      "Required field is missing: fullName", ["fullName"])]
            elif mode == "create" and exists:
                errors = [ResultError("DUPLICATE_DEVELOPER_NAME",
                                      f"There is already a {type_} named {full_name}. Use "
                                      "updateMetadata or upsertMetadata to change it.",
                                      ["fullName"])]
            elif mode == "update" and not exists:
                errors = [ResultError("INVALID_CROSS_REFERENCE_KEY",
                                      f"In field: fullName - no {type_} named {full_name} found",
                                      ["fullName"])]
            else:
                errors = self._validate(staged, type_, full_name, body, creating=not exists)
            if not errors:
                staged.put(type_, full_name, body)
            results.append((full_name, errors, not exists))
        results = self._commit(call, staged, results)
        upsert = mode == "upsert"
        return "".join(result_xml(name, errors, created if upsert else None)
                       for name, errors, created in results)

    def _commit(self, call: SoapCall, staged: AutomationRegistry,
                results: list[tuple[str, list[ResultError], bool]]
                ) -> list[tuple[str, list[ResultError], bool]]:
        """Keep the staged changes, or none of them when AllOrNone is on and one failed."""
        if call.all_or_none and any(errors for _, errors, _ in results):
            return [(name, errors or [_ROLLED_BACK], created) for name, errors, created in results]
        self.registry.adopt(staged)
        return results

    def _type_and_names(self, params: Element) -> tuple[str, list[str]]:
        """readMetadata / deleteMetadata parameters: ``type`` then ``fullNames``."""
        type_, names = None, []
        for el in params:
            name = local(el.tag) if el.tag.startswith(f"{{{MD}}}") else ""
            if name == "type" and type_ is None and not names:
                type_ = (el.text or "").strip()
            elif name == "fullNames" and type_ is not None:
                names.append((el.text or "").strip())
            else:
                raise invalid_element(el)
        if len(names) > MAX_COMPONENTS:
            raise _too_many(len(names))
        return _check_type(type_), names

    def _delete(self, call: SoapCall) -> str:
        type_, names = self._type_and_names(call.params)
        staged = self.registry.clone()
        results = []
        for full_name in names:
            errors = validate_delete(self.org, staged, type_, full_name)
            if not errors:
                staged.remove(type_, full_name)
            results.append((full_name, errors, False))
        results = self._commit(call, staged, results)
        return "".join(result_xml(name, errors) for name, errors, _ in results)

    def _read(self, call: SoapCall) -> str:
        type_, names = self._type_and_names(call.params)
        records = []
        for full_name in names:
            comp = self.registry.get(type_, full_name)
            records.append(record_xml(type_, comp.full_name if comp else None,
                                      comp.body if comp else None))
        return f"<result>{''.join(records)}</result>"


def add_metadata_routes(app: web.Application, org: DemoOrg) -> None:
    """POST /services/Soap/m/{version} (and …/{orgid}, as the login result's URL gives it)."""
    api = MetadataApi(org)
    app.router.add_post("/services/Soap/m/{version}", api.handle)
    app.router.add_post("/services/Soap/m/{version}/{orgid}", api.handle)

