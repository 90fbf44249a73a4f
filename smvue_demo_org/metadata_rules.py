"""What the demo org's Metadata API accepts: element order, required fields, references.

``check_sequence`` raises a SoapFault, as Salesforce does when a request does not match the
WSDL; the ``validate_*`` functions give SaveResult/DeleteResult errors for one component.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from smvue_demo_org.automation import FLOW, OUTBOUND, RULE, AutomationRegistry, one, sub, subs
from smvue_demo_org.metadata_xml import MD, Body, ResultError, SoapFault, invalid_element
from smvue_demo_org.org import DemoOrg

# Each type's elements in WSDL sequence order (after fullName) and which of them may repeat.
SEQUENCE: dict[str, tuple[str, ...]] = {
    OUTBOUND: ("apiVersion", "description", "endpointUrl", "fields", "includeSessionId",
               "integrationUser", "name", "protected", "useDeadLetterQueue"),
    RULE: ("actions", "active", "booleanFilter", "criteriaItems", "description",
           "failedMigrationToolVersion", "formula", "triggerType", "workflowTimeTriggers"),
    FLOW: ("actionCalls", "apexPluginCalls", "apiVersion", "areMetricsLoggedToDataCloud",
           "assignments", "choices", "collectionProcessors", "constants", "customErrors",
           "customProperties", "decisions", "description", "dynamicChoiceSets", "environments",
           "formulas", "interviewLabel", "isAdditionalPermissionRequiredToRun", "isOverridable",
           "isTemplate", "label", "loops", "migratedFromWorkflowRuleName", "orchestratedStages",
           "overriddenFlow", "processMetadataValues", "processType", "recordCreates",
           "recordDeletes", "recordLookups", "recordRollbacks", "recordUpdates", "runInMode",
           "screens", "sourceTemplate", "stages", "start", "startElementReference", "status",
           "steps", "subflows", "textTemplates", "timeZoneSidKey", "transforms", "triggerOrder",
           "variables", "waits"),
}
REPEATED = {
    OUTBOUND: {"fields"},
    RULE: {"actions", "criteriaItems", "workflowTimeTriggers"},
    FLOW: set(SEQUENCE[FLOW]) - {
        "apiVersion", "areMetricsLoggedToDataCloud", "description", "interviewLabel",
        "isAdditionalPermissionRequiredToRun", "isOverridable", "isTemplate", "label",
        "migratedFromWorkflowRuleName", "overriddenFlow", "processType", "runInMode",
        "sourceTemplate", "start", "startElementReference", "status", "timeZoneSidKey",
        "triggerOrder"},
}
BOOLEANS = {OUTBOUND: ("includeSessionId", "protected", "useDeadLetterQueue"),
            RULE: ("active",), FLOW: ()}
RULE_TRIGGERS = ("onCreateOnly", "onCreateOrTriggeringUpdate", "onAllChanges")
RULE_ACTION_TYPES = {"OutboundMessage": OUTBOUND, "FieldUpdate": "WorkflowFieldUpdate",
                     "Alert": "WorkflowAlert", "Task": "WorkflowTask",
                     "Send": "WorkflowSend", "FlowAction": "WorkflowFlowAction"}
FLOW_STATUSES = ("Active", "Draft", "Obsolete", "InvalidDraft")
_DEV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_API_VERSION = re.compile(r"^\d{2}\.0$")


def check_sequence(type_: str, names: list[str]) -> None:
    """Fault on an unknown, repeated or out-of-order element, as the WSDL's xsd:sequence does."""
    order = SEQUENCE[type_]
    last = -1
    for i, name in enumerate(names):
        if name == "fullName" and i == 0:
            continue
        pos = order.index(name) if name in order else -1
        if pos < 0 or pos < last or (pos == last and name not in REPEATED[type_]):
            raise invalid_element(f"{{{MD}}}{name}")
        last = pos


def normalize_booleans(type_: str, body: Body) -> None:
    """xsd:boolean allows true/false/1/0; anything else fails the whole call."""
    for key in BOOLEANS[type_]:
        for i, value in enumerate(body.get(key) or []):
            text = value.strip() if isinstance(value, str) else ""
            if text not in ("true", "false", "1", "0"):
                raise SoapFault("soapenv:Client",
                                f"'{text}' is not a valid value for the type xsd:boolean")
            body[key][i] = "true" if text in ("true", "1") else "false"


def _err(code: str, message: str, *fields: str) -> ResultError:
    return ResultError(code, message, list(fields))


def _missing(type_: str, full_name: str, what: str) -> ResultError:
    return _err("INVALID_CROSS_REFERENCE_KEY",
                f"In field: {what} - no {type_} named {full_name} found", what)


def _required(field: str, hint: str = "") -> ResultError:
    return _err("FIELD_INTEGRITY_EXCEPTION",
                f"Required field is missing: {field}{'. ' + hint if hint else ''}", field)


def _object_errors(org: DemoOrg, sobject: str, what: str) -> list[ResultError]:
    if not sobject or org.catalog.get(sobject) is None:
        return [_err("INVALID_CROSS_REFERENCE_KEY",
                     f"In field: {what} - no CustomObject named {sobject or '(none)'} found",
                     what)]
    return []


def _api_version_errors(body: Body) -> list[ResultError]:
    value = one(body, "apiVersion")
    if value and not _API_VERSION.match(value):
        return [_err("FIELD_INTEGRITY_EXCEPTION",
                     f"apiVersion must look like 66.0, not '{value}'", "apiVersion")]
    return []


def endpoint_error(url: str) -> str | None:
    """Why an outbound message endpoint is unacceptable, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"Endpoint URL '{url}' is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"Endpoint URL must be an http:// or https:// URL, not '{url}'"
    if port is not None and port not in (80, 443) and not 1024 <= port <= 65535:
        return f"Endpoint URL port {port} is not allowed: use 80, 443 or 1024-65535"
    return None


def validate_outbound(org: DemoOrg, full_name: str, body: Body) -> list[ResultError]:
    sobject, _, name = full_name.partition(".")
    errors = _object_errors(org, sobject, "fullName")
    if not _DEV_NAME.match(name) or "__" in name or name.endswith("_"):
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"fullName must be Object.Name with a valid API name, not "
                           f"'{full_name}'", "fullName"))
    if not org.profile.outbound_messages_available:
        errors.append(_err("INVALID_TYPE", "Outbound messages are not available in "
                           f"{org.profile.organization_type}; they need Enterprise, Unlimited, "
                           "Performance or Developer Edition"))
    if not one(body, "name"):
        errors.append(_required("name"))
    url = one(body, "endpointUrl")
    problem = endpoint_error(url) if url else "Required field is missing: endpointUrl"
    if problem:
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION", problem, "endpointUrl"))
    user = one(body, "integrationUser")
    if not user:
        errors.append(_required("integrationUser", "Give the username the message is sent as"))
    elif not org.store.is_active_username(user):
        # Salesforce sends as an active user of the org; an unknown name is refused.
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"integrationUser: no active user with username {user[:80]}",
                           "integrationUser"))
    fields = [f.strip() for f in body.get("fields") or [] if isinstance(f, str)]
    obj = org.catalog.get(sobject)
    if not fields:
        errors.append(_required("fields", "Select at least one field to send"))
    elif obj is not None:
        unknown = [f for f in fields if obj.field(f) is None]
        if unknown:
            errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                               f"No such field(s) on {obj.name}: {', '.join(unknown)}", "fields"))
    return errors + _api_version_errors(body)


def validate_rule(org: DemoOrg, reg: AutomationRegistry, full_name: str, body: Body, *,
                  creating: bool) -> list[ResultError]:
    sobject, _, name = full_name.partition(".")
    errors = _object_errors(org, sobject, "fullName")
    if creating and org.profile.refuse_workflow_rules:
        return [_err("INVALID_OPERATION",
                     "Workflow rules can no longer be created in this org. Use a record-"
                     "triggered flow (Flow) to send the outbound message instead.")]
    if not name:
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"fullName must be Object.RuleName, not '{full_name}'", "fullName"))
    if not one(body, "active"):
        errors.append(_required("active"))
    trigger = one(body, "triggerType")
    if trigger not in RULE_TRIGGERS:
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"triggerType must be one of {', '.join(RULE_TRIGGERS)}, not "
                           f"'{trigger}'", "triggerType"))
    for action in subs(body, "actions"):
        kind, target = one(action, "type"), f"{sobject}.{one(action, 'name')}"
        if kind not in RULE_ACTION_TYPES:
            errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                               f"Unknown workflow action type '{kind}'", "actions"))
        elif reg.get(RULE_ACTION_TYPES[kind], target) is None:
            errors.append(_missing(RULE_ACTION_TYPES[kind], target, "actions"))
    formula, items = one(body, "formula"), subs(body, "criteriaItems")
    if formula and items:
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           "A rule has either criteriaItems or a formula, not both", "formula"))
    if "ISCHANGED" in formula.upper() and trigger != "onAllChanges":
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           "Function ISCHANGED may not be used in this type of formula "
                           "(only with triggerType onAllChanges)", "formula"))
    obj = org.catalog.get(sobject)
    for item in items:
        field_obj, _, field = one(item, "field").partition(".")
        if obj is not None and (field_obj.lower() != obj.name.lower() or obj.field(field) is None):
            errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                               f"Unknown field in criteriaItems: '{one(item, 'field')}'",
                               "criteriaItems"))
    return errors


def validate_flow(org: DemoOrg, reg: AutomationRegistry, full_name: str,
                  body: Body) -> list[ResultError]:
    errors = []
    if not _DEV_NAME.match(full_name) or "__" in full_name or full_name.endswith("_"):
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"The flow API name '{full_name}' must begin with a letter, use only "
                           "letters, digits and single underscores, and not end with one",
                           "fullName"))
    if one(body, "processType") != "AutoLaunchedFlow":
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           "The demo org supports record-triggered flows only: processType "
                           f"must be AutoLaunchedFlow, not '{one(body, 'processType')}'",
                           "processType"))
    if not one(body, "label"):
        errors.append(_required("label"))
    status = one(body, "status", "Draft")
    if status not in FLOW_STATUSES:
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           f"status must be one of {', '.join(FLOW_STATUSES)}, not '{status}'",
                           "status"))
    start = sub(body, "start")
    sobject, when, timing = (one(start, k) for k in ("object", "recordTriggerType",
                                                     "triggerType"))
    errors += _object_errors(org, sobject, "start.object")
    if when not in ("Create", "Update", "CreateAndUpdate", "Delete"):
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION", "start.recordTriggerType must be Create, "
                           f"Update, CreateAndUpdate or Delete, not '{when}'", "start"))
    if timing not in ("RecordAfterSave", "RecordBeforeSave", "RecordBeforeDelete"):
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION", "start.triggerType must be "
                           f"RecordAfterSave, RecordBeforeSave or RecordBeforeDelete, not "
                           f"'{timing}'", "start"))
    if "ISCHANGED" in one(start, "filterFormula").upper() and when in ("Create",
                                                                      "CreateAndUpdate"):
        errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                           "The formula expression is invalid: ISCHANGED can't be used in the "
                           "entry conditions of a flow that runs when a record is created",
                           "start"))
    for call in subs(body, "actionCalls"):
        if one(call, "actionType") != "outboundMessage":
            continue
        target = one(call, "actionName")
        om = reg.get(OUTBOUND, target)
        if om is None:
            errors.append(_missing(OUTBOUND, target, "actionCalls"))
        elif om.sobject.lower() != sobject.lower():
            errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                               f"Outbound message {target} is for {om.sobject}, but the flow "
                               f"runs on {sobject}", "actionCalls"))
        if when == "Delete" or timing != "RecordAfterSave":
            errors.append(_err("FIELD_INTEGRITY_EXCEPTION",
                               "Outbound messages can only be sent from flows that run after a "
                               "record is saved (Create, Update or CreateAndUpdate)",
                               "actionCalls"))
    return errors + _api_version_errors(body)


def validate_delete(org: DemoOrg, reg: AutomationRegistry, type_: str,
                    full_name: str) -> list[ResultError]:
    if org.extras.get("refuse_metadata_deletes") or \
            getattr(org.faults, "refuse_metadata_deletes", 0):
        return [_err("REQUEST_LIMIT_EXCEEDED",
                     "ConcurrentMetadataOperations Limit exceeded: this org refuses metadata "
                     "deletes right now. Try again later or remove the component in Setup.")]
    comp = reg.get(type_, full_name)
    if comp is None:
        return [_missing(type_, full_name, "fullName")]
    if type_ == OUTBOUND:
        users = reg.referrers(comp.full_name)
        if users:
            names = ", ".join(f"{u.type} {u.full_name}" for u in users)
            return [_err("DELETE_FAILED",
                         f"Cannot delete {comp.full_name}: it is used by {names}. Remove or "
                         "change that first.")]
    if type_ == FLOW and one(comp.body, "status") == "Active":
        return [_err("DELETE_FAILED",
                     f"You can't delete the active flow {comp.full_name}. Deactivate it first "
                     "(set status to Draft or Obsolete), then delete it.")]
    return []
