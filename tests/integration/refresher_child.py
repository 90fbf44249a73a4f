"""One SMVue process refreshing the stored login, for the rotation test:
``python -m tests.integration.refresher_child GO_FILE`` (SMVUE_HOME in the environment).

Loads the login from the token store (as the TUI, a sync child and ``serve`` each do), waits
until GO_FILE exists so every process refreshes at the same moment, refreshes, then makes one
API call with whatever login it ended up with. Prints ``OK`` or ``FAILED <reason>``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.salesforce.session import Session


async def main(go_file: Path) -> int:
    session = Session.from_store()
    while not go_file.exists():
        await asyncio.sleep(0.002)
    try:
        await session.refresh(session.access_token)
        async with SalesforceClient(session, api_version="67.0") as client:
            await client.limits()
    except SalesforceError as exc:
        print(f"FAILED {exc.describe()}", flush=True)
        return 1
    finally:
        await session.aclose()
    print("OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
