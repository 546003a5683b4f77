"""`qa eval`: measure answer quality on a folder of questions and articles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.common import QAError, core_errors, processes_for, settings_of


@click.command("eval")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to build the eval index (default: var/eval/<folder name>).",
)
@click.option("--limit", type=int, default=None, help="Sample this many questions (fixed seed).")
@click.option(
    "--off-topic",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Questions the articles don't answer, one a line (default: the bundled list).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Processes sharing the questions (each loads its own models).",
)
@click.option(
    "--validation",
    is_flag=True,
    help="Only questions on the span reader's held-out articles (squad-dev).",
)
@click.option(
    "--articles",
    "articles_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The articles asked about (default: DATA_DIR/articles).",
)
@click.option("--split", default=None, help='Only questions of this split ("calibration", "test").')
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    data_dir: Path,
    index_dir: Path | None,
    limit: int | None,
    off_topic: Path | None,
    workers: int,
    validation: bool,
    articles_dir: Path | None,
    split: str | None,
    as_json: bool,
) -> None:
    """Measure answer quality on DATA_DIR (questions.jsonl, and articles/ unless --articles).

    Every question is asked four ways in one run (BM25, dense, hybrid, hybrid + rerank),
    plus off-topic questions that should be refused (DATA_DIR/off_topic.jsonl if there is
    one, else the bundled list).
    """
    from tqdm import tqdm

    from qa.evaluation.run import OFF_TOPIC, evaluate, format_table

    bar = tqdm(unit="question", file=sys.stderr, disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
        if bar.disable and (done % 250 == 0 or done == total):  # a log file, not a terminal
            click.echo(f"{done}/{total} questions", err=True)

    index_dir = index_dir or Path("var/eval") / data_dir.resolve().name
    workers = processes_for(ctx, index_dir, workers, "evaluating")
    try:
        if validation:
            from qa.evaluation.squad import VALIDATION_ARTICLES as articles
        else:
            articles = None
        results = evaluate(
            data_dir,
            index_dir,
            limit,
            off_topic or _own_off_topic(data_dir) or OFF_TOPIC,
            progress,
            workers,
            settings_of(ctx),
            articles,
            split,
            articles_dir,
        )
    except core_errors() as err:
        raise QAError(str(err)) from None
    finally:
        bar.close()
    click.echo(json.dumps(results, indent=2) if as_json else format_table(results))


def _own_off_topic(data_dir: Path) -> Path | None:
    """Return the off-topic questions that come with an eval folder, if it has them."""
    path = data_dir / "off_topic.jsonl"
    return path if path.is_file() else None
