"""The demo org's admin API for Change Data Capture (not Salesforce's), for tests and demos.

  POST /demo/cdc {"mode": "normal" | "gap" | "silent"}   how record changes become events
  POST /demo/cdc {"drop_streams": true}                  end every open subscription (restart)
  POST /demo/cdc/events {"entity", "change_type", "record_ids"}   publish one event, e.g. a
       GAP_UPDATE for records changed outside the application servers, or a GAP_OVERFLOW
  GET  /demo/cdc                                         mode, endpoint, enabled objects, latest
"""

from __future__ import annotations

from aiohttp import web

from smvue_demo_org.admin import _json_object
from smvue_demo_org.change_events import MODES
from smvue_demo_org.http_layer import json_response
from smvue_demo_org.org import DemoOrg


def add_cdc_admin_routes(app: web.Application, org: DemoOrg) -> None:
    def bus_or_error() -> object:
        if org.change_events is None:
            raise web.HTTPConflict(text='{"error": "the Pub/Sub API is not served"}',
                                   content_type="application/json")
        return org.change_events

    async def state(request: web.Request) -> web.Response:
        bus = bus_or_error()
        if request.method == "POST":
            body = await _json_object(request)
            if body.get("drop_streams") is True:
                bus.drop_streams()  # type: ignore[attr-defined]
            elif body.get("mode") in MODES:
                bus.mode = body["mode"]  # type: ignore[attr-defined]
            else:
                return json_response(400, {"error": f"mode must be one of {', '.join(MODES)}"})
        return json_response(200, {"mode": bus.mode,  # type: ignore[attr-defined]
                                   "endpoint": org.pubsub_endpoint,
                                   "enabled": sorted(bus.enabled),  # type: ignore[attr-defined]
                                   "latest": bus.latest})  # type: ignore[attr-defined]

    async def publish(request: web.Request) -> web.Response:
        bus = bus_or_error()
        body = await _json_object(request)
        ids = body.get("record_ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return json_response(400, {"error": "record_ids must be a list of ids"})
        try:
            position = bus.publish(str(body.get("entity")),  # type: ignore[attr-defined]
                                   ids, str(body.get("change_type")))
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(200, {"position": position})

    app.router.add_route("*", "/demo/cdc", state)
    app.router.add_post("/demo/cdc/events", publish)
