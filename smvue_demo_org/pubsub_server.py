"""The demo org's Pub/Sub API: Salesforce's ``eventbus.v1.PubSub`` gRPC service, on loopback.

GetTopic, GetSchema and Subscribe as the Pub/Sub API documents them (Publish is refused: change
events are the org's own). Every call authenticates with the ``accesstoken``, ``instanceurl``
and ``tenantid`` metadata headers. Subscribe is pull-based: the first FetchRequest names the
topic and the start (LATEST, EARLIEST, or CUSTOM after a replay id); the server delivers at most
as many events as the client has requested (``num_requested``, accumulated across requests), and
sends an empty FetchResponse with the latest replay id when there is nothing to deliver (at once,
then every ``keepalive`` seconds). Errors end the call with a gRPC status and Salesforce's
``error-code`` trailer.

grpc's threaded server, not grpc.aio: an aio server on a demo org's background-thread loop, in
the same process as the app's aio client on the TUI's loop (``smvue-tui --demo``), left that
client waiting forever. A subscription holds one of ``MAX_STREAMS`` worker threads and reads
its FetchRequests on a thread of its own.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import grpc

from sf_pubsub_api import pubsub_api_pb2 as pb
from sf_pubsub_api import pubsub_api_pb2_grpc as pb_grpc
from smvue_demo_org.change_events import ChangeEventBus, replay_bytes, replay_position
from smvue_demo_org.org import DemoOrg

MAX_BATCH = 100  # events per FetchResponse
MAX_STREAMS = 16  # concurrent calls (each open subscription holds a worker thread)
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
TOPIC_ERROR = "sfdc.platform.eventbus.grpc.topic.not.found"  # also: CDC not enabled
REPLAY_ERROR = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
ARGUMENT_ERROR = "sfdc.platform.eventbus.grpc.subscription.fetch.invalid.argument"
UNAVAILABLE_ERROR = "sfdc.platform.eventbus.grpc.service.unavailable"


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, error_code: str,
           message: str) -> NoReturn:
    rpc_id = str(uuid.uuid4())
    context.set_trailing_metadata((("error-code", error_code), ("rpc-id", rpc_id)))
    context.abort(code, f"{message} rpcId: {rpc_id}")  # raises: the call ends here
    raise AssertionError("unreachable")


class PubSubService(pb_grpc.PubSubServicer):
    def __init__(self, org: DemoOrg, bus: ChangeEventBus, *, keepalive: float = 270.0) -> None:
        self.org, self.bus, self.keepalive = org, bus, keepalive

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        headers = {k: v for k, v in context.invocation_metadata() or ()}
        token = headers.get("accesstoken", "")
        if headers.get("tenantid") != self.org.org_id or not headers.get("instanceurl") \
                or self.org.tokens.check_access(token) is None:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                   "Invalid or expired session, or wrong tenant")

    def _entities(self, topic: str, context: grpc.ServicerContext) -> set[str]:
        entities = self.bus.entities_of(topic)
        if entities is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_ERROR,
                   f"Topic {topic!r} not found, or Change Data Capture is not enabled "
                   "for its object")
        return entities or set()

    def GetTopic(self, request: pb.TopicRequest,
                 context: grpc.ServicerContext) -> pb.TopicInfo:
        self._authenticate(context)
        entities = self._entities(request.topic_name, context)
        schema_id = self.bus.schema_id(next(iter(entities))) if len(entities) == 1 else ""
        return pb.TopicInfo(topic_name=request.topic_name, tenant_guid=self.org.org_id,
                            can_publish=False, can_subscribe=True, schema_id=schema_id,
                            rpc_id=str(uuid.uuid4()))

    def GetSchema(self, request: pb.SchemaRequest,
                  context: grpc.ServicerContext) -> pb.SchemaInfo:
        self._authenticate(context)
        schema = self.bus.schema_json(request.schema_id)
        if schema is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_ERROR,
                   f"Schema {request.schema_id!r} not found")
        return pb.SchemaInfo(schema_json=schema or "", schema_id=request.schema_id,
                             rpc_id=str(uuid.uuid4()))

    def Publish(self, request: Any, context: grpc.ServicerContext) -> Any:
        _abort(context, grpc.StatusCode.PERMISSION_DENIED, ARGUMENT_ERROR,
               "Change events cannot be published")

    def _start(self, first: pb.FetchRequest, context: grpc.ServicerContext) -> int:
        if first.replay_preset == pb.EARLIEST:
            return self.bus.earliest
        if first.replay_preset == pb.CUSTOM:
            position = replay_position(first.replay_id)
            if position is None or not self.bus.earliest <= position <= self.bus.latest:
                _abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_ERROR,
                       "The Replay ID validation failed: it is not valid for this topic, "
                       "or it is older than the retention window")
            return position or 0
        return self.bus.latest

    def Subscribe(self, request_iterator: Iterator[pb.FetchRequest],
                  context: grpc.ServicerContext) -> Iterator[pb.FetchResponse]:
        self._authenticate(context)
        first = next(request_iterator, None)
        if first is None:
            return
        topic = first.topic_name
        entities = self._entities(topic, context)
        position = self._start(first, context)
        wake = self.bus.waiter()
        context.add_callback(wake.set)  # the call ended (client gone): stop waiting
        lock = threading.Lock()
        state = {"pending": max(0, first.num_requested), "bad_topic": False}

        def read_requests() -> None:  # more FetchRequests: more capacity
            try:
                for more in request_iterator:
                    with lock:
                        if more.topic_name and more.topic_name != topic:
                            state["bad_topic"] = True
                        state["pending"] += max(0, more.num_requested)
                    wake.set()
            except Exception:  # the call ended under the reader: nothing to do
                pass

        threading.Thread(target=read_requests, daemon=True, name="pubsub-requests").start()
        drops = self.bus.drops
        try:
            keepalive_due = 0.0  # at once: the subscriber learns where it starts
            while context.is_active():
                if self.bus.drops != drops:
                    _abort(context, grpc.StatusCode.UNAVAILABLE, UNAVAILABLE_ERROR,
                           "The service is restarting; subscribe again")
                if state["bad_topic"]:
                    _abort(context, grpc.StatusCode.INVALID_ARGUMENT, ARGUMENT_ERROR,
                           "The topic of a FetchRequest must match the subscription's")
                wake.clear()
                with lock:
                    limit = min(MAX_BATCH, int(state["pending"]))
                events, reached = self.bus.after(position, entities, limit)
                if events:
                    with lock:
                        state["pending"] -= len(events)
                        pending = int(state["pending"])
                    position = events[-1].position
                    yield pb.FetchResponse(
                        events=[pb.ConsumerEvent(
                            event=pb.ProducerEvent(id=e.event_id, schema_id=e.schema_id,
                                                   payload=e.payload),
                            replay_id=replay_bytes(e.position)) for e in events],
                        latest_replay_id=replay_bytes(position), rpc_id=str(uuid.uuid4()),
                        pending_num_requested=pending)
                    continue
                if limit > 0:
                    position = reached  # nothing of ours up to here: skip the others' events
                if time.monotonic() >= keepalive_due:
                    keepalive_due = time.monotonic() + self.keepalive
                    yield pb.FetchResponse(latest_replay_id=replay_bytes(position),
                                           rpc_id=str(uuid.uuid4()),
                                           pending_num_requested=int(state["pending"]))
                wake.wait(max(0.0, keepalive_due - time.monotonic()))
        finally:
            self.bus.forget(wake)


class PubSubServer:
    """The gRPC server beside the demo org's HTTP one; sets ``org.pubsub_endpoint``."""

    def __init__(self, org: DemoOrg, *, host: str = "127.0.0.1", port: int = 0,
                 keepalive: float = 270.0) -> None:
        self.org, self.host, self.port, self.keepalive = org, host, port, keepalive
        self.bus = ChangeEventBus(org)
        self._server: grpc.Server | None = None

    async def start(self) -> str:
        self._server = grpc.server(ThreadPoolExecutor(MAX_STREAMS, "demo-pubsub"),
                                   maximum_concurrent_rpcs=MAX_STREAMS)
        pb_grpc.add_PubSubServicer_to_server(
            PubSubService(self.org, self.bus, keepalive=self.keepalive), self._server)
        self.port = self._server.add_insecure_port(f"{self.host}:{self.port}")
        self._server.start()
        self.bus.start()
        self.org.change_events = self.bus
        self.org.pubsub_endpoint = f"{self.host}:{self.port}"
        return self.org.pubsub_endpoint

    async def stop(self) -> None:
        self.bus.stop()
        self.org.change_events, self.org.pubsub_endpoint = None, ""
        if self._server is not None:
            self._server.stop(grace=0.2).wait(5)
            self._server = None
