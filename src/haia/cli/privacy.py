"""The ``haia deid`` and ``haia gateway`` commands (registered on the main Typer app)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from haia.cli.common import err
from haia.errors import HaiaError


def register(app: typer.Typer) -> None:
    """Add ``deid`` and ``gateway`` to ``app``."""

    @app.command()
    def deid(
        input: Annotated[Path, typer.Argument(help="File to de-identify")],
        out: Annotated[Path, typer.Option("--out", help="Output file")],
        format: Annotated[str, typer.Option(help="auto|text|jsonl|csv|fhir")] = "auto",
        field: Annotated[str, typer.Option(help="JSONL field holding the text")] = "text",
        columns: Annotated[str | None, typer.Option(
            help="CSV columns to de-identify, comma-separated [default: all]")] = None,
        operator: Annotated[str, typer.Option(help="redact|mask|surrogate")] = "redact",
        shift_dates: Annotated[bool, typer.Option(
            "--shift-dates", help="Shift dates per patient (always on with surrogate)")] = False,
        mapping: Annotated[Path | None, typer.Option(
            help="Write the reversible mapping here, encrypted with $HAIA_DEID_KEY")] = None,
        seed: Annotated[int, typer.Option(help="Seed of surrogates and date offsets")] = 0,
    ) -> None:
        """De-identify a text, JSONL, CSV or FHIR R4 JSON file (streaming)."""
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from haia.privacy.anonymize import OPERATORS, Anonymizer, MappingWriter, load_key
        from haia.privacy.detector import Detector
        from haia.privacy.files import FORMATS, Deidentifier, deidentify_file

        if format not in FORMATS:
            raise HaiaError(f"--format {format!r}: use one of {', '.join(FORMATS)}")
        if operator not in OPERATORS:
            raise HaiaError(f"--operator {operator!r}: use one of {', '.join(OPERATORS)}")
        if not input.is_file():
            raise HaiaError(f"{input}: no such file")
        if out.is_dir():
            raise HaiaError(f"--out {out}: is a folder, not a file")
        if not out.parent.is_dir():
            raise HaiaError(f"--out {out}: no such folder {out.parent}")
        writer = MappingWriter(mapping, load_key()) if mapping else None  # type: ignore[arg-type]
        anonymizer = Anonymizer(operator, shift_dates=shift_dates, seed=seed, mapping=writer)
        deidentifier = Deidentifier(Detector(), anonymizer)
        cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        with Progress(TextColumn("[bold]deid"), BarColumn(), DownloadColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=err) as bar:
            task = bar.add_task("deid", total=input.stat().st_size)
            try:
                report = deidentify_file(input, out, deidentifier, fmt=format, text_field=field,
                                         columns=cols,
                                         progress=lambda n: bar.advance(task, n))
            finally:
                if writer is not None:
                    writer.close()
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.entities.items())) or "none"
        err.print(f"{report.records} record(s) written to {out}; PHI replaced: {kinds}",
                  highlight=False)
        for message in report.errors[:20]:
            err.print(f"[yellow]warning:[/] {input}: {message}", highlight=False)
        if report.rejected:
            err.print(f"[yellow]{report.rejected} line(s) rejected[/], kept verbatim in "
                      f"{report.rejects_path}", highlight=False)
        if writer is not None:
            err.print(f"encrypted mapping written to {mapping}", highlight=False)

    @app.command()
    def gateway(
        upstream: Annotated[str, typer.Option(help="Upstream OpenAI-compatible base URL "
                                                   "(e.g. http://localhost:8000/v1)")],
        port: Annotated[int, typer.Option(help="Port to listen on")] = 8808,
        host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
        restore: Annotated[bool, typer.Option(
            "--restore/--no-restore", help="Put real values back in the answer")] = True,
        api_key_env: Annotated[str | None, typer.Option(
            help="Environment variable holding the upstream API key")] = None,
    ) -> None:
        """Serve an OpenAI-compatible proxy that de-identifies every request (chat and legacy
        completions) from an allow-list before it reaches the upstream."""
        from haia.privacy.gateway import Gateway, serve

        if not 0 < port < 65536:
            raise HaiaError(f"--port {port}: a TCP port is between 1 and 65535")
        if not upstream.startswith(("http://", "https://")):
            raise HaiaError(f"--upstream {upstream!r}: expected an http(s) URL")
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise HaiaError(f"--api-key-env {api_key_env}: the variable is not set")
        err.print(f"haia gateway on http://{host}:{port}/v1 → {upstream} "
                  f"(restore {'on' if restore else 'off'})", highlight=False)
        serve(Gateway(upstream, restore=restore, api_key=key), host=host, port=port)
