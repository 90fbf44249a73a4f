"""The change-notification automation as Metadata API components (protocol reference §6.2).

Per synced object: a WorkflowOutboundMessage (the message: endpoint and fields), and its trigger
— a WorkflowRule firing on every create and edit, as the product page says, or a record-triggered
Flow calling the message when the org no longer accepts new Workflow Rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from smvue_tui.salesforce.metadata_xml import FLOW, OUTBOUND, RULE, MetadataComponent

API_VERSION = "66.0"
FLOW_STATUSES = ("Active", "Draft", "Obsolete", "InvalidDraft")
_OBJECT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
# Developer names: a letter first, letters/digits/single underscores, no trailing underscore.
_DEV_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)")
_API_VERSION = re.compile(r"\d{2,3}\.0")
_SEND_ACTION = "Send_Outbound_Message"


def _check_object(sobject: str) -> None:
    if not _OBJECT.fullmatch(sobject or ""):
        raise ValueError(f"not an object API name: {sobject!r}")


def check_developer_name(name: str, what: str = "name", max_len: int = 80) -> None:
    """ValueError unless ``name`` is a valid API name (flow names: no double underscores)."""
    if not name or len(name) > max_len or not _DEV_NAME.fullmatch(name):
        raise ValueError(f"{what} {name!r} must start with a letter, use only letters, digits "
                         f"and single underscores, not end with an underscore, and be at most "
                         f"{max_len} characters")


def _check_version(api_version: str) -> None:
    if not _API_VERSION.fullmatch(api_version):
        raise ValueError(f"apiVersion must look like 66.0, not {api_version!r}")


def sanitize(sobject: str) -> str:
    """``My_Object__c`` → ``My_Object_c``: usable inside a developer name."""
    return re.sub(r"_+", "_", sobject).strip("_")


@dataclass(frozen=True)
class AutomationNames:
    outbound: str  # WorkflowOutboundMessage name (full name is Object.<outbound>)
    rule: str  # WorkflowRule name (full name is Object.<rule>)
    flow: str  # Flow API name (org-wide)


def default_names(sobject: str, prefix: str = "SMVue") -> AutomationNames:
    """The names SMVue deploys under for ``sobject``; stable, so re-deploys find them again."""
    _check_object(sobject)
    base = f"{prefix}_{sanitize(sobject)}"
    return AutomationNames(outbound=f"{base}_OM", rule=f"{base}_Rule", flow=f"{base}_Sync")


def _om_name(sobject: str, name: str) -> str:
    """An outbound message's plain name from ``Name`` or ``Object.Name``."""
    owner, dot, plain = name.rpartition(".")
    if dot and owner != sobject:
        raise ValueError(f"outbound message {name} does not belong to {sobject}")
    return plain


def outbound_message(object: str, name: str, endpoint_url: str, fields: list[str],
                     integration_user: str,
                     description: str = "SMVue change notifications (read-only sync)", *,
                     api_version: str = API_VERSION) -> MetadataComponent:
    """WorkflowOutboundMessage ``Object.Name`` POSTing ``fields`` (Id always first), sent as
    ``integration_user`` (a username: the WSDL requires the element, the org refuses without)."""
    _check_object(object)
    if not isinstance(integration_user, str) or not integration_user.strip():
        raise ValueError("an outbound message needs an integration user (the Salesforce "
                         "username it is sent as): log in again, or set [webhook] "
                         "integration_user in config.toml")
    check_developer_name(name, "outbound message name")
    _check_version(api_version)
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the outbound message endpoint must be an http(s) URL")
    picked = list(dict.fromkeys(["Id", *(f.strip() for f in fields)]))
    bad = [f for f in picked if not _OBJECT.fullmatch(f)]
    if bad:
        raise ValueError(f"not field API names: {', '.join(map(repr, bad))}")
    body = {
        "apiVersion": api_version,
        "description": description[:1000] or None,
        "endpointUrl": endpoint_url,
        "fields": picked,
        "includeSessionId": False,  # never hand a live session to the listener
        "integrationUser": integration_user.strip(),
        "name": name,
        "protected": False,
        "useDeadLetterQueue": False,
    }
    return MetadataComponent(OUTBOUND, f"{object}.{name}", body)


def workflow_rule(object: str, name: str, outbound_message_name: str, *,
                  description: str = "SMVue: notify on every create and edit"
                  ) -> MetadataComponent:
    """WorkflowRule ``Object.Name``: formula TRUE on all changes → the outbound message."""
    _check_object(object)
    check_developer_name(name, "workflow rule name")
    body = {
        "actions": [{"name": _om_name(object, outbound_message_name), "type": "OutboundMessage"}],
        "active": True,
        "description": description[:1000] or None,
        "formula": "TRUE",
        "triggerType": "onAllChanges",
    }
    return MetadataComponent(RULE, f"{object}.{name}", body)


def record_triggered_flow(object: str, name: str, outbound_message_full_name: str,
                          status: str = "Active", *, api_version: str = API_VERSION,
                          label: str | None = None) -> MetadataComponent:
    """Flow ``name``: after every create/update of ``object``, send the outbound message."""
    _check_object(object)
    check_developer_name(name, "flow API name")
    _check_version(api_version)
    if status not in FLOW_STATUSES:
        raise ValueError(f"flow status must be one of {', '.join(FLOW_STATUSES)}")
    action = f"{object}.{_om_name(object, outbound_message_full_name)}"
    body = {
        "actionCalls": [{
            "name": _SEND_ACTION,
            "label": "Send Outbound Message",
            "locationX": 176,  # canvas coordinates: required, otherwise meaningless
            "locationY": 287,
            "actionName": action,
            "actionType": "outboundMessage",
            # Sent when the saving transaction commits: a rolled-back save sends nothing.
            "flowTransactionModel": "CurrentTransaction",
            "nameSegment": action,
        }],
        "apiVersion": api_version,
        "environments": "Default",
        "interviewLabel": f"{name} {{!$Flow.CurrentDateTime}}",
        "label": label or name,
        "processType": "AutoLaunchedFlow",
        "start": {
            "locationX": 50,
            "locationY": 0,
            "connector": {"targetReference": _SEND_ACTION},
            "object": object,
            "recordTriggerType": "CreateAndUpdate",
            "triggerType": "RecordAfterSave",
        },
        "status": status,
    }
    return MetadataComponent(FLOW, name, body)
