"""`qa saved`: follow questions; each is asked again after every new index generation."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import (
    QAError,
    backend_of,
    core_errors,
    embedder_of,
    filter_options,
    index_option,
    settings_of,
)


@click.group("saved")
def saved_cmd() -> None:
    """Save questions and see when their answers change (docs/saved.md)."""


def _store(index_dir: Path):  # noqa: ANN202 - a qa.saved.SavedStore, imported late
    from qa.saved import SavedStore

    return SavedStore.in_index(index_dir)


def _errors() -> tuple[type[Exception], ...]:
    from qa.saved import SavedError

    return (*core_errors(), SavedError)


def _answerer(ctx: click.Context, index_dir: Path):  # noqa: ANN202 - a qa.pipeline.Answerer
    """Return an answerer of the live generation (a missing index fails before the model)."""
    from index.store import load_index
    from qa.pipeline import Answerer, answerer_options

    index = load_index(index_dir, backend=backend_of(ctx, index_dir))
    return Answerer(index, embedder_of(ctx), **answerer_options(settings_of(ctx)))


@saved_cmd.command("add")
@click.argument("question")
@index_option
@filter_options
@click.pass_context
def add_cmd(
    ctx: click.Context,
    question: str,
    index_dir: Path,
    after: str | None,
    before: str | None,
    author: str | None,
) -> None:
    """Save QUESTION and keep its answer now (if an index exists) as the baseline."""
    from index.errors import IndexNotFound
    from qa.saved import baseline

    store = _store(index_dir)
    try:
        saved = store.add(question, {"after": after, "before": before, "author": author})
    except _errors() as err:
        raise QAError(str(err)) from None
    click.echo(f"saved {saved.id}: {saved.question}")
    click.echo(f"changes: /api/saved/{saved.id}/changes.atom (or: qa saved list)")
    try:
        answerer = _answerer(ctx, index_dir)
        kept = baseline(store, saved, answerer, answerer.index.generation)
    except IndexNotFound:
        click.echo("no index yet: its answer is kept at the first check")
        return
    except _errors() as err:
        raise QAError(f"saved, but no baseline yet: {err}") from None
    if kept is not None:
        click.echo(f"baseline at {kept.generation}: {_words(kept.exact)}")


def _words(exact: str | None) -> str:
    return "no answer" if exact is None else repr(exact)


@saved_cmd.command("list")
@index_option
@click.pass_context
def list_cmd(ctx: click.Context, index_dir: Path) -> None:
    """List the saved questions: id, the answer kept, the latest change."""
    store = _store(index_dir)
    try:
        everything, kept, latest = store.all(), store.kept_all(), store.latest()
    except _errors() as err:
        raise QAError(str(err)) from None
    if not everything:
        click.echo("no saved questions")
    for saved in everything:
        now = kept.get(saved.id)
        click.echo(f"{saved.id}  {saved.question}")
        click.echo(
            f"    answer: {_words(now.exact)} ({now.generation})" if now else "    not checked yet"
        )
        if saved.id in latest:
            change = latest[saved.id].summary()
            click.echo(
                f"    changed {change['time']} at {change['generation']}: "
                f"{_words(change['from'])} → {_words(change['to'])}"
            )


@saved_cmd.command("remove")
@click.argument("saved_id", metavar="ID")
@index_option
@click.pass_context
def remove_cmd(ctx: click.Context, saved_id: str, index_dir: Path) -> None:
    """Remove the saved question ID and its changes."""
    try:
        _store(index_dir).remove(saved_id)
    except _errors() as err:
        raise QAError(str(err)) from None
    click.echo(f"removed {saved_id}")


@saved_cmd.command("check")
@index_option
@click.pass_context
def check_cmd(ctx: click.Context, index_dir: Path) -> None:
    """Ask every saved question against the live generation now; record what changed."""
    from qa.saved import check_all

    store = _store(index_dir)
    try:
        if not store.all():
            click.echo("no saved questions")
            return
        outcomes = check_all(
            store, _answerer(ctx, index_dir), report=lambda o: click.echo(o.line())
        )
    except _errors() as err:
        raise QAError(str(err)) from None
    failed = sum(o.status == "failed" for o in outcomes)
    if failed:
        raise QAError(f"{failed} of {len(outcomes)} saved questions could not be asked")
