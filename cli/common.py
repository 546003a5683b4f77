"""What every `qa` command shares: settings, errors, the embedder, folder options."""

from __future__ import annotations

from pathlib import Path

import click

from index.settings import Settings, SettingsError


class QAError(click.ClickException):
    """A one-line error for the user; exit code 2 like the design card asks."""

    exit_code = 2


def settings_of(ctx: click.Context) -> Settings:
    """Return the settings: read from the environment once per command (or set by a test)."""
    ctx.ensure_object(dict)
    if "settings" not in ctx.obj:
        try:
            ctx.obj["settings"] = Settings.from_env()
        except SettingsError as err:
            raise QAError(str(err)) from None
    return ctx.obj["settings"]


def backend_of(ctx: click.Context, index_dir: Path | None = None):
    """Return the vector store backend the settings name (for this index folder if given)."""
    from index.stores import store_backend

    settings = settings_of(ctx)
    return store_backend(settings.with_(index_dir=index_dir) if index_dir else settings)


def processes_for(ctx: click.Context, index_dir: Path, processes: int, doing: str) -> int:
    """Return how many processes may open the index: one if it lives in a Milvus Lite file."""
    from index.store import serves_milvus_lite

    if processes > 1 and serves_milvus_lite(index_dir, backend_of(ctx, index_dir)):
        click.echo(
            f"Milvus Lite lets one process open its file: {doing} with 1 process "
            "(a Milvus server, NEWSQA_MILVUS_URI=http://..., has no such limit)",
            err=True,
        )
        return 1
    return processes


def folder_option(flag: str, dest: str, field: str, what: str):
    """Return a click option for a folder whose default comes from the settings."""
    variable = Settings.__dataclass_fields__[field].metadata["env"]

    def default(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
        return value if value is not None else getattr(settings_of(ctx), field)

    return click.option(
        flag,
        dest,
        type=click.Path(path_type=Path),
        default=None,
        callback=default,
        help=f"{what} (default: env {variable}, else {getattr(Settings, field)}).",
    )


seeds_option = folder_option("--seeds", "seeds", "seeds_dir", "Folder of article files")
index_option = folder_option("--index", "index_dir", "index_dir", "Index folder")


def core_errors():
    """Return the exception types that the edges turn into one-line messages."""
    from index.errors import IndexError_
    from qa.errors import BadQuestion, ModelMissing

    return (IndexError_, BadQuestion, ModelMissing)


def embedder_of(ctx: click.Context):
    """Return the embedder: one a test put in ctx.obj, else the packaged MiniLM (loaded once).

    The backend (onnx by default, torch, onnx-int8) comes from the settings (NEWSQA_EMBEDDER).
    """
    if "embedder" not in ctx.obj:
        from index.embedder.runtime import configured_embedder

        ctx.obj["embedder"] = configured_embedder(settings_of(ctx))
    return ctx.obj["embedder"]


def filter_options(command):  # noqa: ANN001, ANN201 - a click command
    """Add --after, --before and --author (the answer's filters) to a command."""
    day = "this day (YYYY-MM-DD)"
    command = click.option("--author", help="Only articles by this author.")(command)
    command = click.option("--before", help=f"Only articles dated on or before {day}.")(command)
    return click.option("--after", help=f"Only articles dated on or after {day}.")(command)
