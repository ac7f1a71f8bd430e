"""Who may import whom (docs/architecture.md), checked on the source: the stub stays deletable."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUB = "bot.platform"


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute names (`from . import x` does not occur in this project)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_nothing_outside_the_platform_stub_imports_it() -> None:
    """A shop deletes bot/platform and keeps a working gateway, action server and actions."""
    offenders = {
        module_name(path): sorted(name for name in imports(path) if name == STUB or name.startswith(f"{STUB}."))
        for folder in ("bot", "actions", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if not module_name(path).startswith(STUB)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_stub_imports_only_shared_modules() -> None:
    """The stub may use the shared plumbing (settings, clock, db, errors, tokens), never the services."""
    shared = ("bot.settings", "bot.clock", "bot.db", "bot.errors", "bot.tokens", STUB)
    ours = ("bot.", "actions", "benchmarks")
    wrong = {
        (module_name(path), name)
        for path in (ROOT / "bot" / "platform").rglob("*.py")
        for name in imports(path)
        if name.startswith(ours) and not any(name == s or name.startswith(f"{s}.") for s in shared)
    }
    assert wrong == set()
