"""`qa ask`: answer one question from the index, as text or as the API's JSON."""

from __future__ import annotations

import json
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
from qa.query import MAX_K, MODES


@click.command("ask")
@click.argument("question")
@index_option
@click.option(
    "-k",
    "k",
    type=click.IntRange(1, MAX_K),
    default=5,
    show_default=True,
    help="How many citations.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as the API's JSON.")
@click.option(
    "--explain", is_flag=True, help="Add the BM25, dense, fused and reranked lists to --json."
)
@click.option("--no-rerank", is_flag=True, help="Skip the cross-encoder (faster, less precise).")
@click.option("--no-read", is_flag=True, help="Skip the span reader (rules mark the answer).")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="hybrid",
    show_default=True,
    help="Retrieval: BM25 and dense fused, or one of them.",
)
@filter_options
@click.option("--now", help="Ask as on this day (YYYY-MM-DD): later articles are unseen.")
@click.pass_context
def ask_cmd(
    ctx: click.Context,
    question: str,
    index_dir: Path,
    k: int,
    as_json: bool,
    explain: bool,
    no_rerank: bool,
    no_read: bool,
    mode: str,
    after: str | None,
    before: str | None,
    author: str | None,
    now: str | None,
) -> None:
    """Answer QUESTION from the index with cited snippets."""
    from index.store import load_index
    from qa.errors import check_question
    from qa.pipeline import Answerer, answerer_options
    from qa.query import Filters

    try:
        check_question(question)  # fail fast, before the model loads
        filters = Filters.from_json({"after": after, "before": before, "author": author})
        # Before the model loads: a missing index fails fast.
        index = load_index(index_dir, backend=backend_of(ctx, index_dir))
        settings = settings_of(ctx)
        settings = settings.with_(
            rerank=settings.rerank and not no_rerank, read=settings.read and not no_read
        )
        answerer = Answerer(index, embedder_of(ctx), **answerer_options(settings))
        answer = answerer.ask(question, k=k, filters=filters, mode=mode, explain=explain, now=now)
    except core_errors() as err:
        raise QAError(str(err)) from None
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    if answer.answer is None:
        click.echo(answer.message)
    elif answer.exact is not None:
        click.echo(click.style(_exact_line(answer), bold=True))
        if line := _timeline_line(answer):
            click.echo(line)
    for n, c in enumerate(answer.citations, 1):
        text = c.snippet
        if c.highlight:
            a, b = c.highlight
            text = text[:a] + click.style(text[a:b], bold=True, underline=True) + text[b:]
        click.echo(f"[{n}] {text}")
        title = c.title
        if c.title_highlight:  # the answer is quoted from the headline
            a, b = c.title_highlight
            title = title[:a] + click.style(title[a:b], bold=True, underline=True) + title[b:]
        click.echo(
            f"    {title}"
            + click.style(f" — {c.author}, {(c.date or '')[:10]} — {c.url}", dim=True)
        )


def _exact_line(answer) -> str:  # noqa: ANN001 - an Answer
    """Return the exact words, their date if they are one, and "as of" a named period."""
    from qa.text.timeline import period_label, show

    words = answer.exact.text
    if answer.exact.date:
        words = show(words, answer.exact.date)
    if answer.as_of is not None and answer.period is not None:
        words += f" (as of {period_label(answer.period)})"
    return words


def _timeline_line(answer) -> str | None:  # noqa: ANN001 - an Answer
    """Return "Earlier: $2.1 billion — 3 Apr 2018 [2] · ..." or the sources that differ."""
    from qa.text.timeline import show

    def cited(d) -> str:  # noqa: ANN001 - a Dated value
        return f"{show(d.text, d.date)} [{d.citation + 1}]"

    conflicting = [d for d in answer.timeline if d.conflict]
    if conflicting:
        parts = [
            f"{d.text} ({answer.citations[d.citation].author}) [{d.citation + 1}]"
            for d in conflicting
        ]
        return "Sources differ: " + " · ".join(parts)
    top = answer.timeline_entry()
    earlier = [d for d in answer.timeline if d is not top and (top is None or d.date <= top.date)]
    later = [d for d in answer.timeline if top is not None and d is not top and d.date > top.date]
    parts = [
        f"{name}: " + " · ".join(cited(d) for d in ds)
        for name, ds in (("Earlier", earlier), ("Later", later))
        if ds
    ]
    return "; ".join(parts) or None
