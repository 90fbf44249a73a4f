"""Change Data Capture over Salesforce's Pub/Sub API: a gRPC client the app opens itself.

No public URL is needed: the app calls out (HTTP/2 to ``api.pubsub.salesforce.com:7443``) and
Salesforce streams the org's change events back. Per the Pub/Sub API guide:

- every call carries the ``accesstoken``, ``instanceurl`` and ``tenantid`` metadata headers; an
  UNAUTHENTICATED answer means the token expired: refresh once through the session, retry;
- ``Subscribe`` is pull-based: the first FetchRequest names the topic and where to start (LATEST,
  or CUSTOM after a stored replay id); the client asks for more (``num_requested``) only once it
  has stored what it got, so a slow store slows the stream instead of losing events;
- payloads are Avro, decoded with the schema fetched once per schema id (``GetSchema``);
- a FetchResponse with no events is a keepalive carrying the latest replay id.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import fastavro
import grpc

from sf_pubsub_api import pubsub_api_pb2 as pb
from sf_pubsub_api import pubsub_api_pb2_grpc as pb_grpc
from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.salesforce.pubsub_fields import bitmap_fields as bitmap_fields  # re-exported
from smvue_tui.salesforce.pubsub_fields import sobject_fields

log = logging.getLogger(__name__)

GLOBAL_ENDPOINT = "api.pubsub.salesforce.com:7443"
ALL_CHANGES = "/data/ChangeEvents"
BATCH = 100  # events asked for at a time


def change_channel(sobject: str) -> str:
    """The per-object change event channel: /data/OpportunityChangeEvent."""
    return f"/data/{sobject}ChangeEvent"


class PubSubError(SalesforceError):
    """A Pub/Sub API call failed; ``kind`` says how the caller should go on."""

    user_message = "Salesforce's Pub/Sub API refused the call"
    remedy = "Live updates fall back to the scheduled resync; they resume on their own."

    def __init__(self, detail: str = "", *, code: str = "", kind: str = "failed") -> None:
        self.kind = kind  # auth | not_enabled | replay | unavailable | failed
        super().__init__(detail, code=code)


class ChangeDataCaptureOff(PubSubError):
    user_message = "Change Data Capture is not enabled for this object"
    remedy = ("An admin selects the object in Setup → Integrations → Change Data Capture; "
              "until then updates come from Outbound Messages or polling.")


def _error(exc: grpc.aio.AioRpcError) -> PubSubError:
    trailers = {k: v for k, v in (exc.trailing_metadata() or ())}
    code = str(trailers.get("error-code", exc.code().name))
    detail = (exc.details() or "").split(" rpcId:")[0]
    status = exc.code()
    if status == grpc.StatusCode.NOT_FOUND or status == grpc.StatusCode.PERMISSION_DENIED:
        return ChangeDataCaptureOff(detail, code=code, kind="not_enabled")
    if status == grpc.StatusCode.UNAUTHENTICATED:
        return PubSubError(detail, code=code, kind="auth")
    if "replayid" in code or (status == grpc.StatusCode.INVALID_ARGUMENT and "eplay" in detail):
        return PubSubError(detail, code=code, kind="replay")
    if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                  grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED):
        return PubSubError(detail or status.name, code=code, kind="unavailable")
    return PubSubError(detail, code=code)


@dataclass(frozen=True)
class ChangeEvent:
    """One change event's header: what changed, not the values (the app re-reads by Id: an
    event carries only the changed values, no SystemModstamp for the never-backwards upsert)."""

    entity: str
    record_ids: tuple[str, ...]
    change_type: str  # CREATE UPDATE DELETE UNDELETE, GAP_*, GAP_OVERFLOW
    commit_timestamp: int  # epoch milliseconds
    changed_fields: tuple[str, ...]  # sObject fields: LastName, BillingCity (not Name)
    event_id: str
    replay_id: bytes
    nulled_fields: tuple[str, ...] = ()  # the changed fields now null, named the same way

    @property
    def overflow(self) -> bool:
        """Too many changes in one transaction: no ids, re-read the object's changes."""
        return self.change_type == "GAP_OVERFLOW"


@dataclass(frozen=True)
class Batch:
    events: list[ChangeEvent]
    latest_replay_id: bytes  # store this: the stream position after ``events``


def _secure(endpoint: str) -> bool:
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    return host not in ("127.0.0.1", "localhost", "::1")


class PubSubClient:
    """One gRPC channel to the Pub/Sub API for the session's org (TLS except on loopback)."""

    def __init__(self, session: Any, org_id: str, endpoint: str = GLOBAL_ENDPOINT) -> None:
        self.session, self.org_id, self.endpoint = session, org_id, endpoint
        self._channel = (grpc.aio.secure_channel(endpoint, grpc.ssl_channel_credentials())
                         if _secure(endpoint) else grpc.aio.insecure_channel(endpoint))
        self._stub = pb_grpc.PubSubStub(self._channel)
        self._schemas: dict[str, dict[str, Any]] = {}

    async def aclose(self) -> None:
        await self._channel.close(grace=None)

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        instance = urlsplit(self.session.instance_url)
        return (("accesstoken", self.session.access_token),
                ("instanceurl", f"{instance.scheme}://{instance.netloc}"),
                ("tenantid", self.org_id))

    async def _unary(self, method: Any, request: Any) -> Any:
        for attempt in (1, 2):
            token = self.session.access_token
            try:
                return await method(request, metadata=self._metadata(), timeout=30)
            except grpc.aio.AioRpcError as exc:
                error = _error(exc)
                if error.kind == "auth" and attempt == 1:
                    await self.session.refresh(token)
                    continue
                raise error from None
        raise AssertionError("unreachable")

    async def get_topic(self, topic: str) -> Any:
        """TopicInfo; ChangeDataCaptureOff when the channel is not there (CDC off)."""
        return await self._unary(self._stub.GetTopic, pb.TopicRequest(topic_name=topic))

    async def schema(self, schema_id: str) -> dict[str, Any]:
        if schema_id not in self._schemas:
            info = await self._unary(self._stub.GetSchema, pb.SchemaRequest(schema_id=schema_id))
            self._schemas[schema_id] = fastavro.parse_schema(json.loads(info.schema_json))
        return self._schemas[schema_id]

    async def decode(self, consumer_event: Any) -> ChangeEvent:
        event = consumer_event.event
        schema = await self.schema(event.schema_id)
        record = fastavro.schemaless_reader(io.BytesIO(event.payload), schema)
        header = record["ChangeEventHeader"]
        return ChangeEvent(
            entity=header["entityName"], record_ids=tuple(header.get("recordIds") or ()),
            change_type=header["changeType"], commit_timestamp=header["commitTimestamp"],
            changed_fields=sobject_fields(header.get("changedFields") or [], schema),
            nulled_fields=sobject_fields(header.get("nulledFields") or [], schema),
            event_id=event.id, replay_id=consumer_event.replay_id)

    async def subscribe(self, topic: str, replay_id: bytes | None = None, *,
                        batch: int = BATCH) -> AsyncIterator[Batch]:
        """Batches of decoded change events after ``replay_id`` (from now when None). The next
        ``batch`` events are asked for only when the caller comes back for more."""
        requests: asyncio.Queue[Any] = asyncio.Queue()
        preset = pb.CUSTOM if replay_id else pb.LATEST
        await requests.put(pb.FetchRequest(topic_name=topic, replay_preset=preset,
                                           replay_id=replay_id or b"", num_requested=batch))

        async def outgoing() -> AsyncIterator[Any]:
            while True:
                yield await requests.get()

        call = self._stub.Subscribe(outgoing(), metadata=self._metadata())
        try:
            async for response in call:
                events = [await self.decode(e) for e in response.events]
                yield Batch(events, response.latest_replay_id)
                if events:
                    await requests.put(pb.FetchRequest(topic_name=topic,
                                                       num_requested=len(events)))
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None
        finally:
            call.cancel()


CDC_OBJECTS = ("Opportunity", "Account", "Contact", "Task", "Event", "OpportunityContactRole")


async def cdc_enabled(client: PubSubClient,
                      objects: tuple[str, ...] = CDC_OBJECTS) -> dict[str, bool]:
    """Whether each object's change event channel is there (CDC selected for it). Other
    failures (no Pub/Sub API, a refused login) raise PubSubError."""

    async def one(sobject: str) -> bool:
        try:
            await client.get_topic(change_channel(sobject))
            return True
        except ChangeDataCaptureOff:
            return False

    answers = await asyncio.gather(*(one(o) for o in objects))
    return dict(zip(objects, answers, strict=True))
