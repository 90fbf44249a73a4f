"""Which objects an initial or full read takes by Bulk API 2.0, decided beside the reads.

Objects of a handful of rows, incremental runs and anything Bulk refuses stay on REST; an
object whose ``SELECT COUNT()`` of the rows still to read reaches ``BulkPolicy.threshold`` is
read by one Bulk query job (bulk_read.py), as is one whose job an interrupted run left waiting.
The choice waits on the object's COUNT() and, for Bulk, its describe (the field types a job's
CSV is read by): the counts go five to a /composite call (Salesforce runs a composite's queries
one after another), the calls at once, and each object starts as soon as its group is answered
— the biggest objects are counted first, so their jobs start first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any
from urllib.parse import quote

from smvue_tui.salesforce.bulk import BulkQueries
from smvue_tui.salesforce.bulk_csv import unsupported_fields
from smvue_tui.salesforce.client import composite_error
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.sync.bulk_read import BulkPolicy, describe_types, finish_job, waiting_job
from smvue_tui.sync.fetch import SyncContext, build_soql, resume_clause
from smvue_tui.sync.repair import gather_bounded

log = logging.getLogger(__name__)


def choosing(ctx: SyncContext, specs: list[ObjectSpec], wheres: dict[str, str],
             small: tuple[str, ...]) -> Coroutine[Any, Any, None]:
    """Decide which of ``specs`` an initial/full read takes by Bulk, beside the reads: every
    object gets a future in ``ctx.bulk_chosen`` (awaited by ``initial_read``), done once its
    choice is in ``ctx.bulk_types`` (object → describe type of each selected field) or
    ``ctx.api_notes`` (why not Bulk). Returns the coroutine that decides: run it with the reads.

    A group's choices are made as its COUNT() answer arrives (the biggest objects are counted
    first), so their jobs start while the other groups are still counted; each group's Bulk
    objects are described by one /composite call (nothing is described when none is big)."""
    loop = asyncio.get_running_loop()
    ctx.bulk_chosen = {s.sobject: loop.create_future() for s in specs}
    return _choose(ctx, specs, wheres, small)


async def _choose(ctx: SyncContext, specs: list[ObjectSpec], wheres: dict[str, str],
                  small: tuple[str, ...]) -> None:
    try:
        await _decide(ctx, specs, wheres, small)
    finally:  # a failure stops the run (raised to the caller); no read waits on it forever
        for decided in ctx.bulk_chosen.values():
            if not decided.done():
                decided.set_result(None)


async def _decide(ctx: SyncContext, specs: list[ObjectSpec], wheres: dict[str, str],
                  small: tuple[str, ...]) -> None:
    policy: BulkPolicy | None = ctx.bulk_policy
    states = {s.sobject: waiting_job(ctx, s.sobject) for s in specs}
    if policy is not None:
        ctx.bulk_downloads = asyncio.Semaphore(max(1, policy.downloads))
    if policy is None or not policy.enabled:  # Bulk turned off since a run left a job waiting
        for name, state in states.items():
            if state:
                await finish_job(ctx, BulkQueries(ctx.client), name, state["job"],
                                 state["version"])
        return
    resumed = [s for s in specs if states[s.sobject]]
    candidates = [s for s in specs if s.sobject not in small and not states[s.sobject]]
    for spec in specs:  # small and fresh: REST, nothing to ask
        if spec not in resumed and spec not in candidates:
            _decided(ctx, spec)
    if not resumed and not candidates:
        return
    queries = {s.sobject: _count_query(ctx, s, wheres) for s in candidates}

    async def choose(specs: list[ObjectSpec]) -> None:  # describe only what Bulk may read
        types = await describe_types(ctx, specs) if specs else {}
        for spec in specs:
            _choose_bulk(ctx, spec, types[spec.sobject])

    async def choose_counted(group: list[ObjectSpec]) -> None:
        counts = await _counts(ctx, [queries[s.sobject] for s in group])
        for spec in group:
            if counts.get(spec.sobject, 0) < policy.threshold:
                ctx.api_notes[spec.sobject] = f"REST ({counts.get(spec.sobject, '?')} rows)"
                _decided(ctx, spec)
        await choose([s for s in group if counts.get(s.sobject, 0) >= policy.threshold])

    groups = [candidates[first:first + 5]  # five COUNT()s per /composite call
              for first in range(0, len(candidates), 5)]
    # The first failure cancels the other calls: a plain gather would leave them running
    # after the run has stopped.
    await gather_bounded(len(groups) + 1, [choose(resumed), *map(choose_counted, groups)])


def _choose_bulk(ctx: SyncContext, spec: ObjectSpec, types: dict[str, str]) -> None:
    """Bulk for ``spec`` unless its fields are ones Bulk cannot query (or describe failed)."""
    refused = unsupported_fields(types)
    if types and not refused:
        ctx.bulk_types[spec.sobject] = types
    else:
        why = (f"fields Bulk cannot query: {', '.join(refused)}" if refused
               else "no describe answer")
        ctx.api_notes[spec.sobject] = f"REST ({why})"
        log.info("%s: read by REST, not Bulk: %s", spec.sobject, why)
    _decided(ctx, spec)


def _decided(ctx: SyncContext, spec: ObjectSpec) -> None:
    decided = ctx.bulk_chosen.get(spec.sobject)
    if decided is not None and not decided.done():
        decided.set_result(None)


def _count_query(ctx: SyncContext, spec: ObjectSpec, wheres: dict[str, str]) -> dict[str, str]:
    """The /composite subrequest counting the rows ``spec`` still has to read."""
    after = resume_clause(spec, ctx.cursor(spec.sobject))
    soql = build_soql(ctx, spec, [wheres.get(spec.sobject, ""), after], count=True)
    return {"url": "query?q=" + quote(soql, safe=""), "referenceId": spec.sobject}


async def _counts(ctx: SyncContext, subs: list[dict[str, str]]) -> dict[str, int]:
    """COUNT()s (≤ 5) in one /composite call. Salesforce runs a composite's queries one after
    another, so the groups are sent at once."""
    out: dict[str, int] = {}
    for item in await ctx.client.composite(subs):
        if composite_error(item) is None and isinstance(item.get("body"), dict):
            out[item["referenceId"]] = int(item["body"].get("totalSize", 0))
    return out
