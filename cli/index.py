"""`qa index`: build or update the index from the seeds folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli import watching
from cli.common import QAError, backend_of, core_errors, embedder_of, index_option, seeds_option
from cli.watching import poll_option, watch_option


@click.command("index")
@seeds_option
@index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@watch_option
@poll_option
@click.pass_context
def index_cmd(
    ctx: click.Context,
    seeds: Path,
    index_dir: Path,
    full: bool,
    quiet: bool,
    as_json: bool,
    watch: bool,
    poll: bool,
) -> None:
    """Build or update the index from the seeds folder (feeds, pages, exports, text too)."""
    from index.build import build, seed_files

    try:
        seed_files(seeds)  # fail fast on a missing or empty folder, before the model loads
        from tqdm import tqdm

        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=total,
                    unit="chunk",
                    desc="embedding",
                    file=sys.stderr,
                    disable=quiet or not sys.stderr.isatty(),
                )
            bar.update(done - bar.n)

        report = build(
            seeds,
            index_dir,
            embedder_of(ctx),
            full=full,
            progress=progress,
            backend=backend_of(ctx, index_dir),
        )
        if bar is not None:
            bar.close()
    except core_errors() as err:
        raise QAError(str(err)) from None
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(report.summary())
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        for skip in report.skipped:
            click.echo(f"skipped {skip.path}: {skip.reason}", err=True)
    if watch:
        watching.watch(ctx, seeds, watching.rebuilder(ctx, seeds, index_dir), poll)
