"""Terminal output for ``optimlab compare``: rich progress bars and the summary table."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.report import table as _table


def make_console(quiet: bool = False):
    from rich.console import Console

    return Console(stderr=True, quiet=quiet)


def make_progress(console):
    """A rich progress display: one bar per phase (tuning, training, race)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[note]}"), console=console)


def summary_table(results: Mapping[str, Any]):
    """The results as a rich Table, one row per optimizer, the same columns as the report."""
    from rich.table import Table

    seeds = results["settings"]["seeds"]
    table = Table(title=f"{results['title']} — mean ± std over {len(seeds)} seeds, target loss "
                        f"{results['task']['target_loss']:g}", title_justify="left")
    for i, col in enumerate(_table.COLUMNS):
        table.add_column(col, justify="left" if i == 0 else "right")
    for r in results["optimizers"].values():
        table.add_row(*_table.row(r))
    return table
