"""The demo org's own admin API (not Salesforce's), for tests, benchmarks and demos.

  POST   /demo/mutate {"count": N}            N random realistic changes; returns what changed
  POST   /demo/records/{sobject} {fields}     create a record; returns {"id"}
  PATCH  /demo/records/{sobject}/{id} {fields} update a record
  DELETE /demo/records/{sobject}/{id}         delete a record (recycle bin)
  POST   /demo/purge-deleted {"before": ISO}  empty the delete log before a date
  GET    /demo/automation                     what Metadata automation is deployed
  POST   /demo/apps                           register a consumer key {"callback_urls": [...]}
  GET    /demo/faults, POST /demo/faults {name: value}   see or set injected faults
  GET    /demo/cost, POST /demo/cost {name: value}       see or set the cost model (cost_model.py;
                                       "enabled": true/false), with server seconds charged so far
  POST   /demo/usage {"used": N}              set the daily API counter
  POST   /demo/expire-sessions                every access token expires now
  GET    /demo/info                           identity and record counts
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from dataclasses import asdict
from typing import Any

from aiohttp import web

from smvue_demo_org.activity import apply_random_changes
from smvue_demo_org.http_layer import json_response
from smvue_demo_org.org import DemoOrg


def _error(status: int, message: str) -> web.Response:
    return json_response(status, {"error": message})


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}',
                                 content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}',
                                 content_type="application/json")
    return body


def add_admin_routes(app: web.Application, org: DemoOrg, rng: random.Random) -> None:
    store = org.store

    def sobject_name(request: web.Request) -> str:
        obj = org.catalog.get(request.match_info["sobject"])
        if obj is None:
            raise web.HTTPNotFound(text='{"error": "unknown sObject"}',
                                   content_type="application/json")
        return obj.name

    def checked_fields(sobject: str, values: dict[str, Any]) -> dict[str, Any]:
        obj = org.catalog.objects[sobject]
        unknown = [k for k in values if obj.field(k) is None]
        if unknown:
            raise web.HTTPBadRequest(text=json.dumps({"error": f"unknown fields: {unknown}"}),
                                     content_type="application/json")
        return {obj.field(k).name: v for k, v in values.items()}  # type: ignore[union-attr]

    async def mutate(request: web.Request) -> web.Response:
        count = (await _json_object(request)).get("count", 1)
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            return _error(400, "count must be an integer from 1 to 10000")
        changes = await asyncio.to_thread(apply_random_changes, store, rng, count)
        return json_response(200, {"changes": [asdict(c) for c in changes]})

    async def create(request: web.Request) -> web.Response:
        sobject = sobject_name(request)
        new_id = store.insert(sobject, checked_fields(sobject, await _json_object(request)))
        return json_response(201, {"id": new_id})

    async def update(request: web.Request) -> web.Response:
        sobject = sobject_name(request)
        record_id = request.match_info["record_id"]
        if store.get(sobject, record_id) is None:
            return _error(404, "no such record")
        store.update(sobject, record_id, checked_fields(sobject, await _json_object(request)))
        return json_response(200, {"id": record_id})

    async def delete(request: web.Request) -> web.Response:
        sobject = sobject_name(request)
        record_id = request.match_info["record_id"]
        if store.get(sobject, record_id) is None:
            return _error(404, "no such record")
        store.delete(sobject, record_id)
        return json_response(200, {"id": record_id})

    async def purge(request: web.Request) -> web.Response:
        before = (await _json_object(request)).get("before")
        if not isinstance(before, str):
            return _error(400, "before (a Salesforce datetime) is required")
        store.purge_deleted(before)
        return json_response(200, {"purged_before": before})

    async def automation(request: web.Request) -> web.Response:
        return json_response(200, org.automation.snapshot() if org.automation else {})

    async def faults(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                for name, value in (await _json_object(request)).items():
                    org.faults.set(name, value)
            except (TypeError, ValueError) as exc:
                return _error(400, str(exc))
        return json_response(200, org.faults.snapshot())

    async def cost(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                for name, value in (await _json_object(request)).items():
                    if name == "enabled":
                        org.cost.enabled = value is True
                    else:
                        org.cost.set(name, value)
            except (TypeError, ValueError) as exc:
                return _error(400, str(exc))
        return json_response(200, org.cost.snapshot())

    async def usage(request: web.Request) -> web.Response:
        used = (await _json_object(request)).get("used")
        if not isinstance(used, int) or used < 0:
            return _error(400, "used must be a non-negative integer")
        org.usage.set_used(used)
        return json_response(200, {"used": org.usage.used, "max": org.usage.daily_limit})

    async def register_app(request: web.Request) -> web.Response:
        """A new consumer key with its exact callback URLs, as an admin registers an External
        Client App (docs/real-org.md step 2); no secret, PKCE as the built-in app."""
        try:
            urls = (await _json_object(request)).get("callback_urls")
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        if not isinstance(urls, list) or not urls or not all(
                isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
            return _error(400, "callback_urls must be a list of http(s) URLs")
        client_id = "3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "B")
        org.apps[client_id] = tuple(urls)
        return json_response(201, {"client_id": client_id, "callback_urls": urls})

    async def expire_sessions(request: web.Request) -> web.Response:
        org.tokens.expire_all_access()
        return json_response(200, {"expired": True})

    async def info(request: web.Request) -> web.Response:
        counts = {name: store.count(name) for name in org.catalog.objects}
        return json_response(200, {"base_url": org.base_url, "org_id": org.org_id,
                                   "user_id": org.user_id, "sandbox": org.profile.sandbox,
                                   "counts": counts})

    def refusing_bad_writes(handler):  # the store's own errors, as clear 400/404 answers
        async def guarded(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except LookupError as exc:
                return _error(404, str(exc))
            except ValueError as exc:
                return _error(400, str(exc))

        return guarded

    create, update, delete = (refusing_bad_writes(h) for h in (create, update, delete))
    app.router.add_post("/demo/mutate", mutate)
    app.router.add_post("/demo/records/{sobject}", create)
    app.router.add_patch("/demo/records/{sobject}/{record_id}", update)
    app.router.add_delete("/demo/records/{sobject}/{record_id}", delete)
    app.router.add_post("/demo/purge-deleted", purge)
    app.router.add_get("/demo/automation", automation)
    app.router.add_route("*", "/demo/faults", faults)
    app.router.add_route("*", "/demo/cost", cost)
    app.router.add_post("/demo/usage", usage)
    app.router.add_post("/demo/expire-sessions", expire_sessions)
    app.router.add_post("/demo/apps", register_app)
    app.router.add_get("/demo/info", info)
