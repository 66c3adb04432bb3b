"""Parse a report page: its images, its links and the results table's rows."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.rows: dict[str, list[str]] = {}
        self.headers: list[str] = []
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._in_th = False
        self.styles = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a)
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        if tag == "style":
            self.styles += 1
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "data-optimizer" in a:
            self._row = a["data-optimizer"]
            self.rows[self._row] = []
        if tag == "td" and self._row is not None:
            self._cell = []
        if tag == "th":
            self._in_th = True
            self.headers.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self.rows[self._row].append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr":
            self._row = None
        if tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_th:
            self.headers[-1] += data


def parse(path: str | Path) -> Page:
    page = Page()
    page.feed(Path(path).read_text(encoding="utf-8"))
    return page
