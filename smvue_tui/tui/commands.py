"""The command palette (ctrl+p): every key binding of the app and of the screen it opened on.

Built from the same ``BINDINGS`` tables the footer shows (with the user's ``[keys]`` remaps),
so a command can never drift from its key; the keys screen (``?``) lists the same commands.
Only bindings with an ``id`` are offered: those are the app's actions; a widget's own cursor
keys have none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


@dataclass(frozen=True)
class Command:
    title: str
    keys: tuple[str, ...]
    """How each of its keys is shown (``?``, ``^t``, ``⏎``), with the user's remaps."""
    binding_id: str
    node: DOMNode
    action: str

    @property
    def help(self) -> str:
        return f"{' / '.join(self.keys)}  ({self.binding_id})"


def commands_for(screen: DOMNode) -> list[Command]:
    """The screen's and the app's bindings with ids, screen first, each once, with its keys."""
    keys: dict[tuple[int, str], list[str]] = {}
    found: dict[tuple[int, str], tuple[DOMNode, Binding]] = {}
    for key, active in screen.active_bindings.items():  # type: ignore[attr-defined]
        binding = active.binding
        if not binding.id or not active.enabled:
            continue
        ident = (id(active.node), binding.id)
        found.setdefault(ident, (active.node, binding))
        keys.setdefault(ident, []).append(screen.app.get_key_display(
            Binding(key, binding.action, key_display=binding.key_display)))
    out = []
    for ident, (node, binding) in found.items():
        title = binding.description or binding.action
        out.append(Command(title, tuple(keys[ident]), binding.id, node, binding.action))
    return out


class SmvueCommands(Provider):
    """Offers every bound action; selecting one runs it as its key would."""

    def _commands(self) -> Iterator[Command]:
        yield from commands_for(self.screen)

    def _run(self, command: Command) -> partial[object]:
        return partial(self.app.run_action, command.action, command.node)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, self._run(command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), self._run(command),
                          text=command.title, help=command.help)
