"""The one Jinja environment of every HTML writer: autoescape on, for every template.

Jinja2 escapes every string (target names, messages, log lines). Chart data is JSON inside a
<script>, where HTML escaping does not apply, so `script_json` writes `<`, `>` and `&` as JSON
unicode escapes instead.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

ENV = Environment(loader=PackageLoader("runner.report", "templates"), autoescape=True)


def script_json(data: Any) -> Markup:
    """JSON that is safe inside a <script> element, whatever strings it holds."""
    text = json.dumps(data, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
