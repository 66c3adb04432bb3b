"""Render ``index.html`` from a results dict: one self-contained page (inline CSS, figures as data URIs).

Nothing in the page points outside it, so it can be mailed or archived as a single file.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any, Mapping

from optimlab.report import table
from optimlab.report.figures import styles
from optimlab.report.table import fmt, fmt_lr, fmt_pm

MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".webp": "image/webp"}


def data_uri(path: str | Path) -> str:
    """``data:<mime>;base64,...`` for an image file."""
    path = Path(path)
    mime = MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not mime or not mime.startswith("image/"):
        raise ValueError(f"Invalid figure file: {str(path)!r}; allowed: an image ({', '.join(MIME)})")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("optimlab.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.filters.update(fmt=fmt, lr=fmt_lr, pm=fmt_pm)
    return env


def render_html(results: Mapping[str, Any], directory: str | Path, *, filename: str = "index.html") -> Path:
    """Write ``directory/filename`` from ``results`` (the ``results.json`` dict); figures listed in
    ``results["figures"]`` are read from ``directory`` and embedded. Returns the page's path."""
    directory = Path(directory)
    figures = []
    for fig in results.get("figures", []):
        figures.append({**fig, "data_uri": data_uri(directory / fig["file"])})
    page = _environment().get_template("report.html").render(
        title=results["title"],
        task=results["task"],
        settings=results["settings"],
        version=results["version"],
        created=results["created"],
        seconds=results["seconds"],
        experiment=results.get("experiment"),
        finding=results.get("finding"),
        summary=results.get("summary", []),
        columns=table.COLUMNS,
        rows=[(name, table.row(r)) for name, r in results["optimizers"].items()],
        styles=styles(list(results["optimizers"])),
        figures=figures,
        method=results.get("method", []),
        command=results.get("command", "optimlab compare"),
    )
    out = directory / filename
    out.write_text(page, encoding="utf-8")
    return out
