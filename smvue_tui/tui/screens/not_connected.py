"""What a data screen says when there is nothing to show because nothing was ever synced.

One sentence for every screen (pipelines, team), read in the screens' own store workers; the
App's esc leads back to Connect while not connected (``SmvueApp.action_back_to_connect``).
"""

from __future__ import annotations

from smvue_tui.store import models as m

NOT_CONNECTED = ("Not connected to Salesforce yet — press esc to connect; your team's deals "
                 "appear here after the first sync.")
NOTHING_SYNCED = "No deals synced yet — press s to follow the sync."


def nothing_synced() -> bool:
    """The store holds no deal at all (a worker thread calls this, never the UI)."""
    return not m.Opportunity.select().exists()


def empty_store_text(connected: bool) -> str:
    return NOTHING_SYNCED if connected else NOT_CONNECTED
