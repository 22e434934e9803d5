"""Names of a package imported on first use (PEP 562), so that `import runner` (or runner.measure.k6,
runner.measure.server) costs nothing until a name is used: the CLI's error paths stay fast."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_names(
    package: str, homes: Mapping[str, str], names: Sequence[str], prefix: str = ""
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: each name of `homes` is read from its module
    (`prefix` + the module named there) when first asked for."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(prefix + home), name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
