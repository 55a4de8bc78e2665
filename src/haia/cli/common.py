"""What every command module shares: the consoles and the progress bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err = Console(stderr=True)


def progress_bar() -> Progress:
    """The bar long work shows on stderr: done/total, rate, errors, elapsed and remaining."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
        TextColumn("[red]{task.fields[errors]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, transient=False,
    )
