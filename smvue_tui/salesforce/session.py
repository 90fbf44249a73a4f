"""The logged-in session the REST client uses: current token, instance URL, and refresh.

Salesforce access tokens carry no expiry; the client learns of one from a 401 and calls
``refresh(failed_access_token)``. Refreshes are single-flight: concurrent callers await the one
refresh in progress (and share its outcome); a caller whose failed token is already replaced
returns at once. A dead refresh token (``invalid_grant``) raises ReauthorizationNeeded and
latches, so later calls fail fast instead of hammering the token endpoint.

Across processes a refresh holds the lock beside the token store (refresh_lock.py): whoever
gets it second finds the login another process just refreshed (and, with rotation, rotated)
in the store and adopts it instead of presenting a refresh token Salesforce already replaced —
which Salesforce would answer by revoking the login everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from smvue_tui.salesforce.consumer import Consumer, SalesforceSettings, load_settings
from smvue_tui.salesforce.credentials import Credentials, refreshed
from smvue_tui.salesforce.errors import ReauthorizationNeeded
from smvue_tui.salesforce.redaction import remember_secret
from smvue_tui.salesforce.refresh_lock import refresh_lock
from smvue_tui.salesforce.token_calls import DEFAULT_TIMEOUT, refresh_grant
from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError

log = logging.getLogger(__name__)


class Session:
    """Implements ``requester.SessionLike``: ``access_token``, ``instance_url``, ``refresh``."""

    def __init__(self, credentials: Credentials, consumer: Consumer | None = None, *,
                 store: TokenStore | None = None, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._creds = credentials
        self.consumer = consumer or Consumer(credentials.client_id)
        self.store = store
        self.timeout = timeout
        self._transport = transport
        self._inflight: asyncio.Future[None] | None = None
        self._dead: ReauthorizationNeeded | None = None
        self.refresh_count = 0  # successful refreshes, for status displays and tests
        remember_secret(credentials.access_token, credentials.refresh_token)

    @classmethod
    def from_store(cls, store: TokenStore | None = None,
                   settings: SalesforceSettings | None = None, **kwargs: object) -> Session:
        """The stored login; ReauthorizationNeeded when there is none (TokenStoreError if the
        file is damaged). The secret comes from settings when its key matches the stored one."""
        store = store or TokenStore()
        creds = store.load()
        if creds is None:
            raise ReauthorizationNeeded("not logged in", code="not_logged_in")
        secret = None
        if not creds.environment.is_demo:
            settings = settings or load_settings()
            if settings.client_id == creds.client_id:
                secret = settings.client_secret
        return cls(creds, Consumer(creds.client_id, secret), store=store,
                   **kwargs)  # type: ignore[arg-type]

    @property
    def credentials(self) -> Credentials:
        return self._creds

    @property
    def access_token(self) -> str:
        return self._creds.access_token

    @property
    def instance_url(self) -> str:
        return self._creds.instance_url

    @property
    def needs_login(self) -> bool:
        """True once a refresh found the refresh token dead."""
        return self._dead is not None

    async def refresh(self, failed_access_token: str) -> None:
        """A new access token unless ``failed_access_token`` was already replaced."""
        if self._dead is not None:  # a fresh instance: re-raising one grows its traceback
            dead = self._dead
            raise ReauthorizationNeeded(dead.detail, code=dead.code, status=dead.status)
        if self._creds.access_token != failed_access_token:
            return  # someone else already refreshed
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._refresh())
            self._inflight.add_done_callback(self._finished)
        # shield: one caller being cancelled must not cancel the refresh the others wait on
        await asyncio.shield(self._inflight)

    def _finished(self, fut: asyncio.Future[None]) -> None:
        self._inflight = None
        if not fut.cancelled():
            fut.exception()  # mark retrieved: waiters re-raise it themselves

    async def _refresh(self) -> None:
        if self.store is None:
            await self._refresh_unlocked()
            return
        async with refresh_lock(self.store.path):
            if self._adopt_newer(self._creds):
                return  # another process refreshed while we waited: no second refresh
            await self._refresh_unlocked()

    async def _refresh_unlocked(self) -> None:
        creds = self._creds
        if not creds.refresh_token:
            self._dead = ReauthorizationNeeded("no refresh token was issued",
                                               code="no_refresh_token")
            raise self._dead
        try:
            token = await refresh_grant(creds.environment, self.consumer, creds.refresh_token,
                                        timeout=self.timeout, transport=self._transport)
        except ReauthorizationNeeded as exc:  # invalid_grant: revoked, expired, policy
            if self._adopt_stored(creds):
                return  # another process (the sync child, the app) rotated it meanwhile
            self._dead = exc
            log.warning("Salesforce refused the refresh token (%s); login needed", exc.code)
            raise
        self._creds = refreshed(creds, token)
        self.refresh_count += 1
        if self._creds.refresh_token != creds.refresh_token:
            log.info("Salesforce rotated the refresh token")
        if self.store is not None and self._login_changed(creds):
            # A login to another org or user, or a logout, happened while this process ran:
            # saving would bring the old login back over it. Keep this session in memory only.
            log.warning("the stored login changed while this process ran; its refreshed session "
                        "is not saved over it")
        elif self.store is not None:
            try:
                self.store.save(self._creds)
            except OSError as exc:  # keep working; the next start will need a login
                log.error("could not save the refreshed login to %s: %s", self.store.path,
                          exc.strerror)

    def _login_changed(self, creds: Credentials) -> bool:
        """True when the token file no longer holds this login (another org or user, or none
        after a logout). An unreadable file is rewritten: it holds no login to protect."""
        try:
            stored = self.store.load() if self.store is not None else None
        except TokenStoreError:
            return False
        return stored is None or (stored.org_id, stored.user_id) != (creds.org_id,
                                                                     creds.user_id)

    def _adopt_newer(self, creds: Credentials) -> bool:
        """Take the stored login when it holds a newer access token for the same user (another
        process refreshed it; every refresh is saved under the lock); True if adopted."""
        try:
            stored = self.store.load() if self.store is not None else None
        except TokenStoreError:
            return False
        if stored is None or stored.access_token == creds.access_token or \
                (stored.org_id, stored.user_id) != (creds.org_id, creds.user_id):
            return False
        self._creds = stored
        remember_secret(stored.access_token, stored.refresh_token)
        return True

    def _adopt_stored(self, creds: Credentials) -> bool:
        """Take the stored login when another process refreshed it with a rotated refresh
        token since ours was loaded (ours is then refused); True if adopted."""
        if self.store is None:
            return False
        try:
            stored = self.store.load()
        except TokenStoreError:
            return False
        if stored is None or stored.refresh_token in (None, creds.refresh_token) or \
                (stored.org_id, stored.user_id) != (creds.org_id, creds.user_id):
            return False  # nothing newer, or another login altogether
        log.info("using the login another SMVue process refreshed")
        self._creds = stored
        remember_secret(stored.access_token, stored.refresh_token)
        return True

    async def aclose(self) -> None:
        """Wait for a refresh in progress (so its result is saved)."""
        if self._inflight is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._inflight)
