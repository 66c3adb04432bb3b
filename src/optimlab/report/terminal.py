"""Terminal output for ``optimlab compare``: rich progress bars and the summary table."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.report import table as _table


def make_console(quiet: bool = False):
    from rich.console import Console

    console = Console(stderr=True, quiet=quiet)
    if not console.is_terminal:  # a log file or a pipe: room for the whole table on one line per row
        console = Console(stderr=True, quiet=quiet, width=110)
    return console


def make_progress(console):
    """A rich progress display: one bar per phase (tuning, training, race)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[note]}"), console=console)


# The terminal shows the columns that fit 80 characters; the page and results.md show them all.
TERMINAL_COLUMNS = ("optimizer", "best lr", "final train loss", "val acc", "test acc", "steps to target",
                    "diverged (tuning)")
SHORT = {"final train loss": "train loss", "steps to target": "steps→target", "diverged (tuning)": "diverged"}


def summary_table(results: Mapping[str, Any]):
    """The results as a rich Table, one row per optimizer (the report's main columns)."""
    from rich import box
    from rich.table import Table

    seeds = results["settings"]["seeds"]
    table = Table(title=f"{results['title']}: mean ± std over {len(seeds)} seeds, target loss "
                        f"{results['task']['target_loss']:g}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    keep = [_table.COLUMNS.index(c) for c in TERMINAL_COLUMNS]
    for i in keep:
        name = _table.COLUMNS[i]
        table.add_column(SHORT.get(name, name), justify="left" if i == 0 else "right", no_wrap=True)
    for r in results["optimizers"].values():
        cells = _table.row(r)
        table.add_row(*(cells[i] for i in keep))
    return table
