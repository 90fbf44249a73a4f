"""A small store write from a screen: off the UI thread, outcome toasted, screens refreshed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode

from smvue_tui.tui.messages import StoreChanged


def write_in_background(node: DOMNode, change: Callable[[], Any], done: str,
                        changed: frozenset[str]) -> None:
    """Run ``change`` in a thread worker; a ValueError is the user's mistake, shown as such."""

    def work() -> None:
        try:
            change()
        except ValueError as exc:
            node.app.call_from_thread(node.notify, str(exc), severity="error")
            return
        node.app.call_from_thread(node.notify, done)
        node.app.post_message(StoreChanged(changed))  # the App forwards it to every screen

    node.run_worker(work, thread=True, group="store-write", exit_on_error=False,
                    description=done)
