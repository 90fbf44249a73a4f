"""The demo org's Pub/Sub API: Salesforce's ``eventbus.v1.PubSub`` gRPC service, on loopback.

GetTopic, GetSchema and Subscribe as the Pub/Sub API documents them (Publish is refused: change
events are the org's own). Every call authenticates with the ``accesstoken``, ``instanceurl``
and ``tenantid`` metadata headers. Subscribe is pull-based: the first FetchRequest names the
topic and the start (LATEST, EARLIEST, or CUSTOM after a replay id); the server delivers at most
as many events as the client has requested (``num_requested``, accumulated across requests), and
sends an empty FetchResponse with the latest replay id when there is nothing to deliver (at once,
then every ``keepalive`` seconds). Errors end the call with a gRPC status and Salesforce's
``error-code`` trailer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc

from sf_pubsub_api import pubsub_api_pb2 as pb
from sf_pubsub_api import pubsub_api_pb2_grpc as pb_grpc
from smvue_demo_org.change_events import ChangeEventBus, replay_bytes, replay_position
from smvue_demo_org.org import DemoOrg

MAX_BATCH = 100  # events per FetchResponse
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
TOPIC_ERROR = "sfdc.platform.eventbus.grpc.topic.not.found"  # also: CDC not enabled
REPLAY_ERROR = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
ARGUMENT_ERROR = "sfdc.platform.eventbus.grpc.subscription.fetch.invalid.argument"
UNAVAILABLE_ERROR = "sfdc.platform.eventbus.grpc.service.unavailable"


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, error_code: str,
                 message: str) -> None:
    rpc_id = str(uuid.uuid4())
    context.set_trailing_metadata((("error-code", error_code), ("rpc-id", rpc_id)))
    await context.abort(code, f"{message} rpcId: {rpc_id}")


class PubSubService(pb_grpc.PubSubServicer):
    def __init__(self, org: DemoOrg, bus: ChangeEventBus, *, keepalive: float = 270.0) -> None:
        self.org, self.bus, self.keepalive = org, bus, keepalive

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> None:
        headers = {k: v for k, v in context.invocation_metadata() or ()}
        token = headers.get("accesstoken", "")
        if headers.get("tenantid") != self.org.org_id or not headers.get("instanceurl") \
                or self.org.tokens.check_access(token) is None:
            await _abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                         "Invalid or expired session, or wrong tenant")

    async def _entities(self, topic: str, context: grpc.aio.ServicerContext) -> set[str]:
        entities = self.bus.entities_of(topic)
        if entities is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_ERROR,
                         f"Topic {topic!r} not found, or Change Data Capture is not enabled "
                         "for its object")
        return entities or set()

    async def GetTopic(self, request: pb.TopicRequest,
                       context: grpc.aio.ServicerContext) -> pb.TopicInfo:
        await self._authenticate(context)
        entities = await self._entities(request.topic_name, context)
        schema_id = self.bus.schema_id(next(iter(entities))) if len(entities) == 1 else ""
        return pb.TopicInfo(topic_name=request.topic_name, tenant_guid=self.org.org_id,
                            can_publish=False, can_subscribe=True, schema_id=schema_id,
                            rpc_id=str(uuid.uuid4()))

    async def GetSchema(self, request: pb.SchemaRequest,
                        context: grpc.aio.ServicerContext) -> pb.SchemaInfo:
        await self._authenticate(context)
        schema = self.bus.schema_json(request.schema_id)
        if schema is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_ERROR,
                         f"Schema {request.schema_id!r} not found")
        return pb.SchemaInfo(schema_json=schema or "", schema_id=request.schema_id,
                             rpc_id=str(uuid.uuid4()))

    async def Publish(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED, ARGUMENT_ERROR,
                     "Change events cannot be published")

    async def _start(self, first: pb.FetchRequest, context: grpc.aio.ServicerContext) -> int:
        if first.replay_preset == pb.EARLIEST:
            return self.bus.earliest
        if first.replay_preset == pb.CUSTOM:
            position = replay_position(first.replay_id)
            if position is None or not self.bus.earliest <= position <= self.bus.latest:
                await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_ERROR,
                             "The Replay ID validation failed: it is not valid for this topic, "
                             "or it is older than the retention window")
            return position or 0
        return self.bus.latest

    async def Subscribe(self, request_iterator: AsyncIterator[pb.FetchRequest],
                        context: grpc.aio.ServicerContext) -> AsyncIterator[pb.FetchResponse]:
        await self._authenticate(context)
        first = await anext(aiter(request_iterator), None)
        if first is None:
            return
        topic = first.topic_name
        entities = await self._entities(topic, context)
        position = await self._start(first, context)
        wake = self.bus.waiter()
        state = {"pending": max(0, first.num_requested), "bad_topic": False}

        async def read_requests() -> None:  # more FetchRequests: more capacity
            async for more in request_iterator:
                if more.topic_name and more.topic_name != topic:
                    state["bad_topic"] = True
                state["pending"] += max(0, more.num_requested)
                wake.set()

        reader = asyncio.create_task(read_requests())
        drops = self.bus.drops
        try:
            keepalive_due = 0.0  # at once: the subscriber learns where it starts
            loop = asyncio.get_running_loop()
            while True:
                if self.bus.drops != drops:
                    await _abort(context, grpc.StatusCode.UNAVAILABLE, UNAVAILABLE_ERROR,
                                 "The service is restarting; subscribe again")
                if state["bad_topic"]:
                    await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, ARGUMENT_ERROR,
                                 "The topic of a FetchRequest must match the subscription's")
                wake.clear()
                limit = min(MAX_BATCH, int(state["pending"]))
                events, reached = self.bus.after(position, entities, limit)
                if events:
                    state["pending"] -= len(events)
                    position = events[-1].position
                    yield pb.FetchResponse(
                        events=[pb.ConsumerEvent(
                            event=pb.ProducerEvent(id=e.event_id, schema_id=e.schema_id,
                                                   payload=e.payload),
                            replay_id=replay_bytes(e.position)) for e in events],
                        latest_replay_id=replay_bytes(position), rpc_id=str(uuid.uuid4()),
                        pending_num_requested=int(state["pending"]))
                    continue
                if limit > 0:
                    position = reached  # nothing of ours up to here: skip the others' events
                if loop.time() >= keepalive_due:
                    keepalive_due = loop.time() + self.keepalive
                    yield pb.FetchResponse(latest_replay_id=replay_bytes(position),
                                           rpc_id=str(uuid.uuid4()),
                                           pending_num_requested=int(state["pending"]))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), max(0.0, keepalive_due - loop.time()))
        finally:
            reader.cancel()
            self.bus.forget(wake)


class PubSubServer:
    """The gRPC server beside the demo org's HTTP one; sets ``org.pubsub_endpoint``."""

    def __init__(self, org: DemoOrg, *, host: str = "127.0.0.1", port: int = 0,
                 keepalive: float = 270.0) -> None:
        self.org, self.host, self.port, self.keepalive = org, host, port, keepalive
        self.bus = ChangeEventBus(org)
        self._server: grpc.aio.Server | None = None

    async def start(self) -> str:
        self._server = grpc.aio.server()
        pb_grpc.add_PubSubServicer_to_server(
            PubSubService(self.org, self.bus, keepalive=self.keepalive), self._server)
        self.port = self._server.add_insecure_port(f"{self.host}:{self.port}")
        await self._server.start()
        self.bus.start()
        self.org.change_events = self.bus
        self.org.pubsub_endpoint = f"{self.host}:{self.port}"
        return self.org.pubsub_endpoint

    async def stop(self) -> None:
        self.bus.stop()
        self.org.change_events, self.org.pubsub_endpoint = None, ""
        if self._server is not None:
            await self._server.stop(grace=0.2)
            self._server = None
