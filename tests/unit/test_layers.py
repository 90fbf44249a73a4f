"""The house rules of the package tree: every module imports, no import loops, arrows point down.

The layers, lowest first (README → Development → Layout says the same). A module may import its
own package and any lower layer, never a higher one. Imports inside functions and under
TYPE_CHECKING count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP = "smvue_tui"
DEMO_ORG = "smvue_demo_org"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("smvue_tui", "smvue_tui.config"),  # foundation: version, paths, TOML, errors in words
    ("smvue_tui.salesforce",),  # the only code that speaks to Salesforce
    ("smvue_tui.store",),  # the local store: models, writer, pipeline math
    # the sync plans, pages and checkpoints reads into the store; the inspection reads it
    ("smvue_tui.sync", "smvue_tui.inspection"),
    ("smvue_tui.services",),  # what runs while connected: connection, live updates, automation
    ("smvue_tui.tui",),  # the Textual app, screens, widgets
    ("smvue_tui.cli", "smvue_tui.__main__"),  # the commands
)
# The demo org is Salesforce: it imports nothing of the app, and the app starts it only here.
DEMO_ORG_LAUNCHERS = ("smvue_tui.services.demo_launch", "smvue_tui.cli.demo_org")


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for top in (APP, DEMO_ORG):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: pathlib.Path) -> set[str]:
    """The project modules ``name`` imports (a ``from pkg import mod`` counts as pkg.mod)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                deps.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {d for d in deps if d in MODULES and d != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer): the longest prefix decides
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_every_app_module_has_a_layer() -> None:
    assert [m for m in MODULES if m.startswith(APP) and layer_of(m) is None] == []


def test_no_import_from_a_higher_layer() -> None:
    upward = []
    for module, deps in GRAPH.items():
        here = layer_of(module)
        if here is None:
            continue
        for dep in deps:
            there = layer_of(dep)
            if there is not None and there > here:
                upward.append(f"{module} -> {dep} ({LAYERS[here][0]} imports {LAYERS[there][0]})")
    assert upward == []


def test_the_demo_org_stands_apart() -> None:
    crossing = sorted(f"{module} -> {dep}" for module, deps in GRAPH.items() for dep in deps
                      if module.startswith(DEMO_ORG) and dep.startswith(APP))
    crossing += sorted(f"{module} -> {dep}" for module, deps in GRAPH.items() for dep in deps
                       if module.startswith(APP) and dep.startswith(DEMO_ORG)
                       and module not in DEMO_ORG_LAUNCHERS)
    assert crossing == []


def _backend_names(path: pathlib.Path) -> list[str]:
    """SQLite-specific names a module uses: sqlite3, peewee's Sqlite* classes, PRAGMA SQL."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("sqlite3")]
        elif isinstance(node, ast.ImportFrom):
            found += [a.name for a in node.names if a.name.startswith("Sqlite")]
            found += [node.module] if (node.module or "").startswith("sqlite3") else []
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += ["PRAGMA"] if node.value.lstrip().upper().startswith("PRAGMA") else []
    return found


def test_only_the_store_names_its_backend() -> None:
    """The sync and everything above it write through ``StoreWriter`` over a peewee Database:
    a second backend (PostgreSQL) is an addition to store/, not an edit of every caller."""
    named = {m: names for m, path in MODULES.items()
             if m.startswith(APP) and not m.startswith("smvue_tui.store")
             and (names := _backend_names(path))}
    assert named == {}
    assert _backend_names(MODULES["smvue_tui.store.db"])  # the check sees what it looks for


_SQL_WORDS = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|GROUP BY|ORDER BY)\b|"
                        r"\b(julianday|json_extract|TOTAL|strftime|OVER)\s*\(")


def _raw_sql(path: pathlib.Path) -> list[str]:
    """SQL a module writes itself: SQL words in its strings, or a cursor it runs them on."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [m.group(0) for m in [_SQL_WORDS.search(node.value)] if m]
        elif isinstance(node, ast.Attribute) and node.attr in ("execute_sql", "cursor"):
            found.append(node.attr)
    return found


def test_the_inspection_reads_the_store_through_store_functions():
    """Its SQL lives in store/ (``inspection_queries``, ``deal_facts``), written for every
    backend the store supports (issue 18): the inspection package holds none."""
    raw = {m: found for m, path in MODULES.items()
           if m.startswith("smvue_tui.inspection") and (found := _raw_sql(path))}
    assert raw == {}
    assert _raw_sql(MODULES["smvue_tui.store.inspection_queries"])  # it sees what it looks for


def _a_cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(GRAPH[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep):], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle() -> None:
    cycle = _a_cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The rules above would fail on the two loops and the upward import they were written for."""
    saved = {k: set(v) for k, v in GRAPH.items()}
    try:
        GRAPH["smvue_demo_org.generate"].add("smvue_demo_org.generate_deals")
        GRAPH["smvue_demo_org.generate_deals"].add("smvue_demo_org.generate")
        assert _a_cycle() is not None
        GRAPH.update({k: set(v) for k, v in saved.items()})
        GRAPH["smvue_tui.store.writer"].add("smvue_tui.sync.plan")
        with pytest.raises(AssertionError):
            test_no_import_from_a_higher_layer()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_the_app_and_the_demo_org_agree_on_the_demo_consumer_key() -> None:
    from smvue_demo_org.org import DEMO_CLIENT_ID
    from smvue_tui.salesforce.consumer import DEMO_CONSUMER_KEY

    assert DEMO_CONSUMER_KEY == DEMO_CLIENT_ID


def test_the_readme_layout_names_every_package_and_top_level_module() -> None:
    """README → Development → Layout is the newcomer's map: it must not miss a part."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("### Layout", 1)[1].split("```")[1]
    parts = [p.name for p in (ROOT / APP).iterdir()
             if (p.is_dir() and (p / "__init__.py").exists())
             or (p.suffix == ".py" and not p.name.startswith("__"))]
    parts += [p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()
              and p.name not in ("tests", APP)]
    missing = [name for name in parts
               if f"{name.removesuffix('.py')}/" not in layout and name not in layout]
    assert missing == []
