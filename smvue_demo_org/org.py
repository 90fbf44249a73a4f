"""One running demo org: its identity and the parts that answer each protocol.

The parts live in their own modules and are wired together by ``server.build_org``:

- ``store``      OrgStore (store.py): the SQLite data, record changes, deleted log
- ``tokens``     TokenRegistry (tokens.py): OAuth codes, access/refresh tokens, device codes
- ``usage``      ApiUsage (limits.py): the daily API counter behind Sforce-Limit-Info
- ``faults``     Faults (faults.py): latency, 5xx rate, dropped connections, session expiry
- ``cost``       CostModel (cost_model.py): server time per page/job, concurrency limits
- ``automation`` the deployed Metadata (metadata_api.py) and the outbound dispatcher
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smvue_demo_org.cost_model import CostModel
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import Catalog

API_VERSIONS = tuple(f"{v}.0" for v in range(59, 68))  # oldest → newest; v67.0 = Summer '26
DEMO_CLIENT_ID = "3MVG9smvueDemoConsumerKey.local"
DEMO_USERNAME = "manager@demo.smvue.local"
DEMO_PASSWORD = "demo-password"


@dataclass
class DemoOrg:
    profile: OrgProfile
    catalog: Catalog  # everything stored
    visible: Catalog  # what the connected user may see (FLS applied): use for describe/SOQL
    org_id: str
    user_id: str  # the demo user (a System Administrator manager who owns deals)
    store: Any
    tokens: Any
    usage: Any
    faults: Any
    automation: Any = None
    change_events: Any = None  # the ChangeEventBus (change_events.py) while Pub/Sub is served
    base_url: str = ""  # http://127.0.0.1:PORT, set once the server is bound
    pubsub_endpoint: str = ""  # 127.0.0.1:PORT of the Pub/Sub API (gRPC) when served
    client_id: str = DEMO_CLIENT_ID
    client_secret: str | None = None
    # Apps an admin registered (POST /demo/apps): consumer key → the exact callback URLs, as
    # Salesforce keeps them for an External Client App. The built-in demo app accepts any
    # loopback port on /OauthRedirect.
    apps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD
    auto_approve: bool = False
    # The demo user as identity/userinfo report it: user_id, username, display_name, email,
    # first_name, last_name, timezone. Filled from the store's demo user by server.build_org.
    user_profile: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    cost: CostModel = field(default_factory=CostModel)  # server time and limits (off)

    @property
    def latest_version(self) -> str:
        return API_VERSIONS[-1]

    def identity_url(self, user_id: str | None = None) -> str:
        return f"{self.base_url}/id/{self.org_id}/{user_id or self.user_id}"
