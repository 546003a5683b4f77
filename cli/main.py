"""The `qa` command line: one module per command; heavy imports happen inside commands."""

from __future__ import annotations

import click

from cli import ask, evaluate, feeds, index, saved, serve
from cli.common import QAError
from index.settings import Settings


@click.group()
@click.version_option(package_name="newsqa")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Ask questions of news articles; every answer is a cited, verbatim snippet."""
    ctx.ensure_object(dict)


@cli.command("export-onnx")
@click.option("--force", is_flag=True, help="Export again even if the cached export is current.")
def export_onnx_cmd(force: bool) -> None:
    """Export the packaged model to ONNX (fp32 and int8) for the fast embedder backends."""
    from index.embedder.onnx_export import cache_dir, export, is_current

    folder = Settings.from_env().onnx_dir or cache_dir()
    if force or not is_current(folder):
        try:
            export(folder)
        except ImportError as err:  # torch or onnx missing: both are needed only here
            raise QAError(f"cannot export to ONNX: {err}") from None
    click.echo(f"ONNX export ready in {folder}")


cli.add_command(index.index_cmd)
cli.add_command(ask.ask_cmd)
cli.add_command(serve.serve_cmd)
cli.add_command(evaluate.eval_cmd)
cli.add_command(feeds.feeds_cmd)
cli.add_command(saved.saved_cmd)


def main() -> None:
    """Run the CLI (console script entry point)."""
    cli()
