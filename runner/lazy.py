"""Names of a package imported on first use (PEP 562), so that `import runner` (or runner.measure.k6,
runner.measure.server) costs nothing until a name is used: the CLI's error paths stay fast.

Such a package lists each name twice, both read by tools: imported under `if TYPE_CHECKING:`
(where it lives; mypy and editors follow it) and in a literal `__all__` (what the package exports:
with `__all__ = sorted(...)` mypy's strict users could not import the names, and ruff flags the
imports unused). Where each name lives at run time is read from those same imports, so there is
no third list to keep in step; tests/test_public_api.py checks that the two lists agree."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def type_checking_imports(source: str | Path) -> dict[str, str]:
    """Name -> module of each `from MODULE import NAME` under the file's top-level
    `if TYPE_CHECKING:`."""
    import ast  # a few milliseconds, paid when a lazy name is first used

    homes: dict[str, str] = {}
    for node in ast.parse(Path(source).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        homes[alias.asname or alias.name] = statement.module
    return homes


def lazy_names(
    package: str, source: str, names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__` (call with `__name__, __file__, __all__`): each
    name imported under the package's `if TYPE_CHECKING:` is imported from there when first
    asked for."""
    homes: dict[str, str] = {}

    def __getattr__(name: str) -> Any:
        if not homes:
            homes.update(type_checking_imports(source))
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        # Kept in the package: where a name is also a subpackage's (runner.compare), importing it
        # just set the package's attribute to the subpackage, and `from runner import compare`
        # (which asks twice) would get that module instead.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
