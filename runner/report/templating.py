"""The one Jinja environment of every HTML writer: autoescape on, for every template.

Jinja2 escapes every string (target names, messages, log lines). The `inline` filter renders the
Markdown inline code the shared sentences carry (`http_req_duration`) as <code>, after escaping,
so no backtick reaches the page.
"""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

ENV = Environment(loader=PackageLoader("runner.report", "templates"), autoescape=True)

_INLINE_CODE = re.compile(r"`([^`]+)`")


# A withheld percentile's cell, "too few (890 < 1,000 requests)": on the page its counts are the
# cell's tooltip, so the column stays as narrow as its numbers (the Markdown spells them out).
_WITHHELD = re.compile(r"^too few \((.+)\)$")


def inline(value: object) -> Markup:
    """Escaped text with Markdown's `code` spans as <code> elements."""
    escaped = str(escape(value))
    escaped = _WITHHELD.sub(r'<span title="\1">too few</span>', escaped)
    return Markup(_INLINE_CODE.sub(r"<code>\1</code>", escaped))


ENV.filters["inline"] = inline
