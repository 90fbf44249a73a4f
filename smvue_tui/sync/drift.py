"""Reconciliation's count check: does the org hold in-scope rows the store lacks?

For every object whose scope is a plain SOQL filter (deals, their children, activities, users,
leads…), ``SELECT COUNT()`` with that filter — five per /composite call — is compared with the
store's count after extra rows were removed and the store pruned. More rows in the org than in
the store means rows were missed: those objects are read again from the start.
(Accounts and contacts are a closure over the store, checked by the top-up instead.)
"""

from __future__ import annotations

from urllib.parse import quote

from smvue_tui.salesforce.client import composite_error
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.sync.fetch import SyncContext
from smvue_tui.sync.plan import scope_filter
from smvue_tui.sync.repair import local_ids

CLOSURE_SCOPES = ("account", "contact", "child:AccountId")


def countable(spec: ObjectSpec) -> bool:
    return spec.scope not in CLOSURE_SCOPES


async def missing_counts(ctx: SyncContext, specs: list[ObjectSpec]) -> dict[str, int]:
    """Object → how many in-scope rows the org has beyond the store's (only where > 0)."""
    specs = [s for s in specs if countable(s)]
    remote: dict[str, int] = {}
    for first in range(0, len(specs), 5):  # /composite allows five queries per call
        group = specs[first:first + 5]
        subrequests = []
        for spec in group:
            where = scope_filter(spec, ctx.lookbacks, ctx.today)
            soql = f"SELECT COUNT() FROM {spec.sobject}" + (f" WHERE {where}" if where else "")
            subrequests.append({"url": "query?q=" + quote(soql, safe=""),
                                "referenceId": spec.sobject})
        for item in await ctx.client.composite(subrequests):
            if composite_error(item) is None:
                remote[item["referenceId"]] = int(item["body"]["totalSize"])
    missing = {}
    for spec in specs:
        if spec.sobject in remote:
            local = len(await ctx.writer.call(local_ids, spec))
            if remote[spec.sobject] > local:
                missing[spec.sobject] = remote[spec.sobject] - local
    return missing
