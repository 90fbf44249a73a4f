"""The loopback redirect listener: a tiny aiohttp server on 127.0.0.1 for one login.

It runs only while a login waits. Each GET on the callback path hands its query parameters to
the owner's ``handler``, which decides (and may do the token exchange first) what page the
browser shows. There is no access log: the query string carries the authorization code.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from smvue_tui.errors import reason

# As Salesforce's CLI docs register it (http://localhost:1717/OauthRedirect); Salesforce matches
# callback URLs exactly, so this is what docs/real-org.md tells admins to register.
DEFAULT_PATH = "/OauthRedirect"
BIND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Page:
    status: int
    title: str
    text: str

    def response(self) -> web.Response:
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title></head>"
            "<body style='font-family: sans-serif; margin: 3em'>"
            f"<h1>{html.escape(self.title)}</h1><p>{html.escape(self.text)}</p></body></html>"
        )
        return web.Response(status=self.status, text=body, content_type="text/html",
                            headers={"Cache-Control": "no-store", "Connection": "close",
                                     "Referrer-Policy": "no-referrer"})


Handler = Callable[[dict[str, str]], Awaitable[Page]]


class ListenerError(OSError):
    """The callback port could not be bound (in use, not permitted)."""


class LoopbackListener:
    """``await start()``, read ``port``/``redirect_uri``, ``await close()``."""

    def __init__(self, handler: Handler, *, port: int = 1717, path: str = DEFAULT_PATH,
                 host: str = BIND_HOST) -> None:
        self._handler = handler
        self._wanted_port = port
        self.path = path
        self.host = host
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def redirect_uri(self) -> str:
        """``http://localhost:<port>/OauthRedirect`` (the form connected apps register)."""
        return redirect_uri_for(self.port if self.port is not None else self._wanted_port,
                                self.path)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(self.path, self._serve)
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._wanted_port, reuse_address=False)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenerError(exc.errno, f"cannot listen on {self.host}:{self._wanted_port}: "
                                f"{reason(exc)}") from None
        server = site._server  # aiohttp exposes the bound port only here
        self.port = server.sockets[0].getsockname()[1] if server else self._wanted_port
        self._runner = runner

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        page = await self._handler(dict(request.query))
        return page.response()


def redirect_uri_for(port: int, path: str = DEFAULT_PATH) -> str:
    return f"http://localhost:{port}{path}"
