"""Read the tables of report.html back (stdlib parser), to check them against stored values."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._current: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._count = 0
        self._skip_row = False
        self._titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._count += 1
            key = (
                attributes.get("id") or f"{attributes.get('class')}:{attributes.get('data-target')}"
            )
            self._current = self.tables.setdefault(key or str(self._count), [])
        elif tag == "tr" and self._current is not None:
            # A row naming column groups (targets) is presentation; the header row below it
            # holds every column's full name.
            self._skip_row = attributes.get("class") == "groups"
            if not self._skip_row:
                self._current.append([])
        elif tag in ("td", "th") and self._current is not None and not self._skip_row:
            self._cell = []
        elif tag == "span" and self._cell is not None and attributes.get("title"):
            # A cell's tooltip (a withheld percentile's counts) reads as the Markdown's "(...)".
            self._titles.append(str(attributes["title"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._cell is not None and self._titles:
            self._cell.append(f" ({self._titles.pop()})")
        elif tag in ("td", "th") and self._cell is not None and self._current is not None:
            self._current[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html_text: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html_text)
    return parser.tables


class _ExternalRefs(HTMLParser):
    """Tags that would make the browser fetch something (script src, link href, img src)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.refs.append(f"<{tag} {name}={value}>")


def external_refs(html_text: str) -> list[str]:
    parser = _ExternalRefs()
    parser.feed(html_text)
    return parser.refs
