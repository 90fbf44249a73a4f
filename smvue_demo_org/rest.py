"""The REST resources under /services/data/vNN.0: query, describe, records, limits, changes.

``RestApi.handle`` answers one call (from HTTP or from /composite); auth, usage counting and
faults are the HTTP layer's job (server.py).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from smvue_demo_org import describe
from smvue_demo_org.api import ApiError, ApiResponse, Request, Router, not_found
from smvue_demo_org.bulk_jobs import DAILY_QUERY_JOBS, EXTRA_KEY
from smvue_demo_org.changes import deleted_resource, updated_resource
from smvue_demo_org.ids import is_valid_id, to_18
from smvue_demo_org.org import DemoOrg
from smvue_demo_org.query_cursors import Cursor, LocatorError, QueryCursors
from smvue_demo_org.schema import PIPELINES, ObjectDef
from smvue_demo_org.soql import SoqlError, prepare

MIN_BATCH, MAX_BATCH = 200, 2000


def batch_size(headers: Any) -> int:
    """Sforce-Query-Options: batchSize=N, clamped to Salesforce's 200–2,000."""
    for part in str(headers.get("Sforce-Query-Options", "")).split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(MAX_BATCH, max(MIN_BATCH, int(value)))
    return MAX_BATCH


class RestApi:
    def __init__(self, org: DemoOrg) -> None:
        self.org = org
        # The cost model's cursor rule (no limit, 2 days) while it is on; the faults' otherwise.
        self.cursors = QueryCursors(
            lambda: org.cost.cursor_ttl_s if org.cost.enabled else org.faults.locator_ttl,
            lambda: org.cost.open_cursors if org.cost.enabled else org.faults.max_locators)
        self.router = Router()
        r = self.router
        r.add("GET", "", self.resources)
        r.add("GET", "/query", self.query)
        r.add("GET", "/queryAll", self.query_all)
        r.add("GET", "/query/{locator}", self.query_more)
        r.add("GET", "/queryAll/{locator}", self.query_more)
        r.add("GET", "/sobjects", self.describe_global)
        r.add("GET", "/sobjects/{sobject}", self.sobject_info)
        r.add("GET", "/sobjects/{sobject}/describe", self.describe_sobject)
        r.add("GET", "/sobjects/{sobject}/updated", self.updated)
        r.add("GET", "/sobjects/{sobject}/deleted", self.deleted)
        r.add("GET", "/sobjects/{sobject}/{record_id}", self.get_record)
        r.add("GET", "/limits", self.limits)
        r.add("GET", "/composite/sobjects/{sobject}", self.get_records)
        r.add("GET", "/ui-api/object-info/{sobject}/picklist-values/{rt}/{field}",
              self.picklist_values)

    async def handle(self, req: Request) -> ApiResponse:
        try:
            handler, params = self.router.match(req.method, req.path)
            return await handler(req, **params)
        except ApiError as err:
            return err.response()
        except SoqlError as err:
            return ApiError(400, err.error_code, err.message).response()

    # --- resources ---------------------------------------------------------------------------

    async def resources(self, req: Request) -> ApiResponse:
        base = f"/services/data/v{req.version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "ui-api")
        return ApiResponse(200, {name: f"{base}/{name}" for name in names})

    async def query(self, req: Request) -> ApiResponse:
        return await self._query(req, include_deleted=False)

    async def query_all(self, req: Request) -> ApiResponse:
        return await self._query(req, include_deleted=True)

    async def _query(self, req: Request, *, include_deleted: bool) -> ApiResponse:
        soql = req.query.get("q")
        if not soql:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        q = prepare(soql, self.org.visible, include_deleted=include_deleted,
                    now=datetime.now(UTC), api_version=req.version)
        conn = self.org.store.reader()
        try:
            total = await asyncio.to_thread(q.count, conn)
            if q.is_count:
                conn.close()
                await self.org.cost.spend(self.org.cost.page_seconds(0, q.shape))
                return ApiResponse(200, {"totalSize": total, "done": True, "records": []})
            limit = self.org.faults.query_timeout_rows
            if limit and total > limit:
                raise ApiError(400, "QUERY_TIMEOUT", "Your query request was running for too "
                               "long.")
            kind = "queryAll" if include_deleted else "query"
            cursor = Cursor(self.cursors.new_locator(), q.records(conn), conn, total,
                            batch_size(req.headers), f"/services/data/v{req.version}/{kind}",
                            cost=self.org.cost, shape=q.shape)
        except BaseException:
            conn.close()
            raise
        body = await cursor.next_page()
        if body["done"]:
            cursor.close()
        else:
            self.cursors.add(cursor)
        return ApiResponse(200, body)

    async def query_more(self, req: Request, locator: str) -> ApiResponse:
        name, _, position = locator.rpartition("-")
        try:
            if not position.isdigit():
                raise LocatorError(locator)
            return ApiResponse(200, await self.cursors.page(name, int(position)))
        except LocatorError:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from None

    # --- describe ----------------------------------------------------------------------------

    def _object(self, name: str) -> ObjectDef:
        obj = self.org.visible.get(name)
        if obj is None:
            raise not_found()
        return obj

    async def describe_global(self, req: Request) -> ApiResponse:
        return ApiResponse(200, describe.describe_global(self.org.visible, req.version))

    async def sobject_info(self, req: Request, sobject: str) -> ApiResponse:
        obj = self._object(sobject)
        return ApiResponse(200, {"objectDescribe": describe.object_summary(obj, req.version),
                                 "recentItems": []})

    async def describe_sobject(self, req: Request, sobject: str) -> ApiResponse:
        obj = self._object(sobject)
        record_types = await self._record_types(obj.name)
        return ApiResponse(200, describe.describe_object(obj, req.version, record_types))

    async def _record_types(self, sobject: str) -> list[dict[str, Any]]:
        obj = self.org.visible.objects.get(sobject)
        if obj is None or "RecordTypeId" not in obj.fields:
            return []
        return await self._select(
            f"SELECT Id, Name, DeveloperName, IsActive FROM RecordType "
            f"WHERE SobjectType = '{sobject}' ORDER BY Name", "67.0")

    async def picklist_values(self, req: Request, sobject: str, rt: str, field: str) -> ApiResponse:
        obj = self._object(sobject)
        fdef = obj.field(field)
        if fdef is None or not fdef.picklist:
            raise not_found()
        values = list(fdef.picklist)
        if obj.name == "Opportunity" and fdef.name == "StageName":
            values = await self._stages_for_record_type(rt, values)
        return ApiResponse(200, {
            "controllerValues": {}, "defaultValue": None, "eTag": f"{rt}-{fdef.name}",
            "url": f"/services/data/v{req.version}/ui-api/object-info/{obj.name}"
                   f"/picklist-values/{rt}/{fdef.name}",
            "values": [{"attributes": None, "label": v, "validFor": [], "value": v}
                       for v in values],
        })

    async def _stages_for_record_type(self, rt: str, all_values: list[str]) -> list[str]:
        if rt.startswith("012000000000000"):  # the Master record type: every stage
            return all_values
        if not is_valid_id(rt):
            raise not_found()
        rows = await self._select(
            f"SELECT DeveloperName FROM RecordType WHERE Id = '{to_18(rt)}'", "67.0")
        if not rows or rows[0]["DeveloperName"] not in PIPELINES:
            raise not_found()
        return list(PIPELINES[rows[0]["DeveloperName"]][1])

    # --- records -----------------------------------------------------------------------------

    async def _select(self, soql: str, version: str) -> list[dict[str, Any]]:
        q = prepare(soql, self.org.visible, now=datetime.now(UTC), api_version=version)
        conn = self.org.store.reader()
        try:
            return await asyncio.to_thread(lambda: list(q.records(conn)))
        finally:
            conn.close()

    def _field_list(self, obj: ObjectDef, raw: str | None) -> str:
        if not raw:
            return ", ".join(obj.fields)
        names = [n.strip() for n in raw.split(",") if n.strip()]
        for name in names:
            if obj.field(name) is None:
                raise ApiError(400, "INVALID_FIELD",
                               f"No such column '{name}' on entity '{obj.name}'. If you are "
                               "attempting to use a custom field, be sure to append the '__c' "
                               "after the custom field name. Please reference your WSDL or the "
                               "describe call for the appropriate names.")
        return ", ".join(names)

    async def get_record(self, req: Request, sobject: str, record_id: str) -> ApiResponse:
        obj = self._object(sobject)
        if not is_valid_id(record_id):
            raise not_found()
        raw = self.org.store.get(obj.name, to_18(record_id))
        if raw is None:
            raise not_found()
        if raw.get("IsDeleted"):
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        fields = self._field_list(obj, req.query.get("fields"))
        rows = await self._select(
            f"SELECT {fields} FROM {obj.name} WHERE Id = '{to_18(record_id)}'", req.version)
        if not rows:
            raise not_found()
        return ApiResponse(200, rows[0])

    async def get_records(self, req: Request, sobject: str) -> ApiResponse:
        """sObject Collections retrieve: records in the order asked, null for missing ids."""
        obj = self._object(sobject)
        ids = [i.strip() for i in req.query.get("ids", "").split(",") if i.strip()]
        if not ids or not req.query.get("fields"):
            raise ApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > 2000:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "Exceeded the maximum of 2000 ids")
        fields = self._field_list(obj, req.query["fields"])
        wanted = [to_18(i) if is_valid_id(i) else None for i in ids]
        valid = sorted({i for i in wanted if i})
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(valid), 200):
            chunk = ", ".join(f"'{i}'" for i in valid[start:start + 200])
            for row in await self._select(
                    f"SELECT {fields} FROM {obj.name} WHERE Id IN ({chunk})", req.version):
                found[row["attributes"]["url"].rsplit("/", 1)[-1]] = row
        return ApiResponse(200, [found.get(i) if i else None for i in wanted])

    async def updated(self, req: Request, sobject: str) -> ApiResponse:
        return ApiResponse(200, updated_resource(self.org.store, self._replicated(sobject),
                                                 req.query))

    async def deleted(self, req: Request, sobject: str) -> ApiResponse:
        return ApiResponse(200, deleted_resource(self.org.store, self._replicated(sobject),
                                                 req.query))

    def _replicated(self, sobject: str) -> str:
        """getUpdated/getDeleted exist only for replicateable objects (describe says which).
        The exact code a real org answers here was not verified; the refusal is."""
        obj = self._object(sobject)
        if not obj.replicateable:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{obj.name}' is not "
                                                "replicateable: it has no updated/deleted")
        return obj.name

    async def limits(self, req: Request) -> ApiResponse:
        usage = self.org.usage
        fixed = {"DailyBulkApiBatches": 15000,
                 "DailyBulkV2QueryFileStorageMB": 976562, "DailyAsyncApexExecutions": 250000,
                 "ConcurrentAsyncGetReportInstances": 200, "HourlyODataCallout": 10000}
        body: dict[str, Any] = {
            "DailyApiRequests": {"Max": usage.daily_limit, "Remaining": usage.remaining}}
        body.update({k: {"Max": v, "Remaining": v} for k, v in fixed.items()})
        bulk = self.org.extras.get(EXTRA_KEY)
        body["DailyBulkV2QueryJobs"] = {"Max": DAILY_QUERY_JOBS, "Remaining":
                                        bulk.daily.remaining if bulk else DAILY_QUERY_JOBS}
        return ApiResponse(200, body)


def parse_json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None
