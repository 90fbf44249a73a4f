"""The user's ``[keys]`` remaps, checked before they are applied.

Textual's ``set_keymap`` takes any id and any key silently: an unknown id does nothing and
``quit = "p"`` takes ``p`` away from Pipelines. Here every remap is checked against the binding
tables of the app, its screens and widgets (each class's ``BINDINGS``); a remap naming no binding,
or giving a key another binding of the same table (or of the app's global table, which every
screen shares) already has, is refused with a sentence saying why, and the others apply.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator

from textual.binding import Binding
from textual.dom import DOMNode

Table = tuple[str, list[Binding]]  # (owner's name, its bindings)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_tables(app_cls: type[DOMNode]) -> list[Table]:
    """The app's table first, then every screen's and widget's of this package."""
    package = app_cls.__module__.split(".")[0]
    ui = importlib.import_module(app_cls.__module__.rsplit(".", 1)[0])
    for module in pkgutil.walk_packages(ui.__path__, ui.__name__ + "."):
        importlib.import_module(module.name)  # screens opened lazily have tables too
    seen: set[type] = set()
    tables: list[Table] = []
    for cls in [app_cls, *_subclasses(DOMNode)]:
        if cls in seen or not cls.__module__.startswith(package + "."):
            continue
        seen.add(cls)
        own = [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding) and b.id]
        if own:
            tables.append((cls.__name__, own))
    return tables


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def check_keymap(keymap: dict[str, str],
                 tables: list[Table]) -> tuple[dict[str, str], list[str]]:
    """(the remaps to apply, a sentence for each refused one). ``tables[0]`` is the app's."""
    known = {b.id for _, table in tables for b in table}
    problems: list[str] = []
    wanted: dict[str, str] = {}
    for ident, keys in keymap.items():
        if ident not in known:
            problems.append(f"[keys] {ident}: no key binding has this id (the ? screen lists "
                            "them); ignored")
        elif not _keys(keys):
            problems.append(f"[keys] {ident}: no key given; ignored")
        else:
            wanted[ident] = keys

    def effective(binding: Binding) -> list[str]:
        return _keys(wanted[binding.id]) if binding.id in wanted else _keys(binding.key)

    app_name = tables[0][0] if tables else ""
    accepted: dict[str, str] = {}
    for ident, keys in wanted.items():
        clash = _clash(ident, _keys(keys), tables, app_name, effective)
        if clash is None:
            accepted[ident] = keys
        else:
            other, key = clash
            default = next(b.key for _, t in tables for b in t if b.id == ident)
            problems.append(f'[keys] {ident} = "{keys}": {key} is already '
                            f'"{other.description or other.id}" ({other.id}); '
                            f"keeping {default}")
    return accepted, problems


def _clash(ident: str, keys: Iterable[str], tables: list[Table], app_name: str,
           effective: object) -> tuple[Binding, str] | None:
    """Another binding that the remapped key would shadow or be shadowed by."""
    mine = [name for name, table in tables if any(b.id == ident for b in table)]
    for key in keys:
        for name, table in tables:
            # The same table, or either side the app's global one (shared by every screen).
            if not (name in mine or name == app_name or app_name in mine):
                continue
            for other in table:
                if other.id != ident and key in effective(other):  # type: ignore[operator]
                    return other, key
    return None
