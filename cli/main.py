"""The `qa` command line: index, ask, serve, eval. Heavy imports happen inside commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from index.settings import Settings, SettingsError, worker_environment
from qa.query import MAX_K, MODES


class QAError(click.ClickException):
    """A one-line error for the user; exit code 2 like the design card asks."""

    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    """Return the settings: read from the environment once per command (or set by a test)."""
    ctx.ensure_object(dict)
    if "settings" not in ctx.obj:
        try:
            ctx.obj["settings"] = Settings.from_env()
        except SettingsError as err:
            raise QAError(str(err)) from None
    return ctx.obj["settings"]


def _backend(ctx: click.Context, index_dir: Path | None = None):
    """Return the vector store backend the settings name (for this index folder if given)."""
    from index.store import store_backend

    settings = _settings(ctx)
    return store_backend(settings.with_(index_dir=index_dir) if index_dir else settings)


def _processes_for(ctx: click.Context, index_dir: Path, processes: int, doing: str) -> int:
    """Return how many processes may open the index: one if it lives in a Milvus Lite file."""
    from index.store import serves_milvus_lite

    if processes > 1 and serves_milvus_lite(index_dir, _backend(ctx, index_dir)):
        click.echo(
            f"Milvus Lite lets one process open its file: {doing} with 1 process "
            "(a Milvus server, NEWSQA_MILVUS_URI=http://..., has no such limit)",
            err=True,
        )
        return 1
    return processes


def _folder_option(flag: str, dest: str, field: str, what: str):
    """Return a click option for a folder whose default comes from the settings."""
    variable = Settings.__dataclass_fields__[field].metadata["env"]

    def default(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
        return value if value is not None else getattr(_settings(ctx), field)

    return click.option(
        flag,
        dest,
        type=click.Path(path_type=Path),
        default=None,
        callback=default,
        help=f"{what} (default: env {variable}, else {getattr(Settings, field)}).",
    )


_seeds_option = _folder_option("--seeds", "seeds", "seeds_dir", "Folder of article files")
_index_option = _folder_option("--index", "index_dir", "index_dir", "Index folder")


def _core_errors():
    """Return the exception types that the edges turn into one-line messages."""
    from index.errors import IndexError_
    from qa.errors import BadQuestion, ModelMissing

    return (IndexError_, BadQuestion, ModelMissing)


@click.group()
@click.version_option(package_name="newsqa")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Ask questions of news articles; every answer is a cited, verbatim snippet."""
    ctx.ensure_object(dict)


def _embedder(ctx: click.Context):
    """Return the embedder: one a test put in ctx.obj, else the packaged MiniLM (loaded once).

    The backend (onnx by default, torch, onnx-int8) comes from the settings (NEWSQA_EMBEDDER).
    """
    if "embedder" not in ctx.obj:
        from index.embedder.runtime import configured_embedder

        ctx.obj["embedder"] = configured_embedder(_settings(ctx))
    return ctx.obj["embedder"]


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


def _rebuilder(ctx: click.Context, seeds: Path, index_dir: Path, embedder=None, after=None):
    """Return what --watch runs on each settled change: an incremental build, one log line."""
    from datetime import datetime

    from index.build import build

    def rebuild() -> None:
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            backend = _backend(ctx, index_dir)
            report = build(seeds, index_dir, embedder or _embedder(ctx), backend=backend)
        except _core_errors() as err:  # an emptied folder, a build held elsewhere: watch on
            click.echo(f"{stamp} rebuild failed: {err}", err=True)
            return
        if after is not None:
            after()
        click.echo(f"{stamp} {report.summary()}", err=True)

    return rebuild


def _watch(
    ctx: click.Context, seeds: Path, rebuild, poll: bool, stop=None, catch_up: bool = False
) -> None:
    """Rebuild after each settled change in the seeds folder until Ctrl-C (or `stop`).

    catch_up: rebuild once at the start too (`qa serve` has not just built, `qa index` has).
    """
    import contextlib
    import threading

    from index.sources.watcher import SeedsWatcher

    stop = stop or ctx.obj.get("watch_stop") or threading.Event()  # a test may stop it
    how = "polling" if poll else "inotify, else polling"
    click.echo(f"watching {seeds} for changes ({how}); Ctrl-C stops", err=True)
    watcher = SeedsWatcher(seeds, rebuild, polling=poll, catch_up=catch_up)
    ctx.obj["watcher"] = watcher  # a test waits on watcher.watching before changing files
    with contextlib.suppress(KeyboardInterrupt):
        watcher.run(stop)


_watch_option = click.option(
    "--watch",
    is_flag=True,
    help="Then watch the seeds folder: rebuild after each change, one log line each.",
)
_poll_option = click.option(
    "--poll", is_flag=True, help="With --watch: look at the folder every 0.5 s, not via inotify."
)


@cli.command("index")
@_seeds_option
@_index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@_watch_option
@_poll_option
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
            _embedder(ctx),
            full=full,
            progress=progress,
            backend=_backend(ctx, index_dir),
        )
        if bar is not None:
            bar.close()
    except _core_errors() as err:
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
        _watch(ctx, seeds, _rebuilder(ctx, seeds, index_dir), poll)


@cli.command("ask")
@click.argument("question")
@_index_option
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
@click.option("--after", help="Only articles dated on or after this day (YYYY-MM-DD).")
@click.option("--before", help="Only articles dated on or before this day (YYYY-MM-DD).")
@click.option("--author", help="Only articles by this author.")
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
) -> None:
    """Answer QUESTION from the index with cited snippets."""
    from index.store import load_index
    from qa.errors import check_question
    from qa.pipeline import Answerer
    from qa.query import Filters

    try:
        check_question(question)  # fail fast, before the model loads
        filters = Filters.from_json({"after": after, "before": before, "author": author})
        # Before the model loads: a missing index fails fast.
        index = load_index(index_dir, backend=_backend(ctx, index_dir))
        settings = _settings(ctx)
        answerer = Answerer(
            index,
            _embedder(ctx),
            rerank=settings.rerank and not no_rerank,
            read=settings.read and not no_read,
            reranker_dir=settings.reranker_dir,
            threads=settings.threads,
        )
        answer = answerer.ask(question, k=k, filters=filters, mode=mode, explain=explain)
    except _core_errors() as err:
        raise QAError(str(err)) from None
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    if answer.answer is None:
        click.echo(answer.message)
    elif answer.exact is not None:
        words = answer.exact.text
        if answer.exact.date:
            from qa.text.timeline import show

            words = show(words, answer.exact.date)
        click.echo(click.style(words, bold=True))
    for n, c in enumerate(answer.citations, 1):
        text = c.snippet
        if c.highlight:
            a, b = c.highlight
            text = text[:a] + click.style(text[a:b], bold=True, underline=True) + text[b:]
        click.echo(f"[{n}] {text}")
        click.echo(
            click.style(f"    {c.title} — {c.author}, {(c.date or '')[:10]} — {c.url}", dim=True)
        )


@cli.command("serve")
@_index_option
@_seeds_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(2, 64),
    help="Threads per worker: questions take turns, the rest answer /healthz and refusals.",
)
@click.option(
    "--max-queue",
    type=click.IntRange(1, 1000),
    default=None,
    help="Questions in flight or waiting per worker; past it a fast 503 "
    "(default: env NEWSQA_MAX_QUEUE, else 4).",
)
@click.option(
    "--keep-alive",
    "keepalive",
    default=5,
    show_default=True,
    type=click.IntRange(1, 300),
    help="Seconds an idle connection is kept open (before its first request or between two).",
)
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of gunicorn.")
@click.option("--no-rerank", is_flag=True, help="Skip the cross-encoder (faster, less precise).")
@click.option("--no-read", is_flag=True, help="Skip the span reader (rules mark the answer).")
@_watch_option
@_poll_option
@click.pass_context
def serve_cmd(
    ctx: click.Context,
    index_dir: Path,
    seeds: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    max_queue: int | None,
    keepalive: int,
    dev: bool,
    no_rerank: bool,
    no_read: bool,
    watch: bool,
    poll: bool,
) -> None:
    """Serve the chat page and the JSON API (POST /api/rebuild needs NEWSQA_ADMIN_TOKEN).

    With --watch, this process also rebuilds the index after each change in the seeds folder;
    the workers pick up each new generation within a second (they follow `current`).
    """
    settings = _settings(ctx)
    max_queue = max_queue or settings.max_queue
    if threads <= max_queue:  # else a full queue of questions could hold every thread
        raise QAError(
            f"--threads ({threads}) must be more than --max-queue ({max_queue}), so that "
            "/healthz and the refusals always find a free thread"
        )
    workers = _processes_for(ctx, index_dir, workers, "serving")
    # Questions take turns within a worker (web/gate.py), so one model thread each (ONNX
    # Runtime, torch, FAISS's OpenMP) keeps workers x threads within the cores.
    settings = settings.with_(
        index_dir=index_dir,
        seeds_dir=seeds,  # where POST /api/rebuild reads articles from
        rerank=settings.rerank and not no_rerank,
        read=settings.read and not no_read,
        max_queue=max_queue,
        threads=settings.threads or max(1, (os.cpu_count() or 1) // max(1, workers)),
    )
    if dev:
        from web import create_app

        app = create_app(settings=settings)
        if watch:  # the watcher builds with the app's own model, then switches it over
            source = app.extensions["newsqa.index"]
            rebuild = _rebuilder(ctx, seeds, index_dir, source.embedder, source.refresh)
            _in_thread(lambda stop: _watch(ctx, seeds, rebuild, poll, stop, catch_up=True))
        app.run(host=host, port=port, threaded=True)
        return
    # web/worker.py: gunicorn's threaded worker, where an idle or slow client holds no thread
    # (sync workers were each held by one idle socket: two of them stopped the service).
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    command += ["--workers", str(workers), "--worker-class", "web.worker.GuardedWorker"]
    command += ["--threads", str(threads), "--keep-alive", str(keepalive)]
    # --timeout is the heartbeat, not a request limit: a worker loading a big index is slow.
    command += ["--timeout", "120", "--access-logfile", "-"]
    # The models load once in the master and are shared by the forked workers; each worker
    # loads the (mapped) index after the fork (web/wsgi.py, web/gunicorn_hooks.py).
    command += ["--preload", "--config", "python:web.gunicorn_hooks"]
    environment = worker_environment(settings)
    if watch:
        _serve_and_watch(ctx, [*command, "web.wsgi:app"], environment, seeds, index_dir, poll)
    else:  # gunicorn takes over this process
        os.execvpe(sys.executable, [*command, "web.wsgi:app"], environment)


def _in_thread(work) -> None:
    """Run work(stop) in a daemon thread (it ends with the process)."""
    import threading

    stop = threading.Event()
    threading.Thread(target=work, args=(stop,), name="newsqa-watch", daemon=True).start()


def _serve_and_watch(
    ctx: click.Context, command: list[str], env: dict, seeds: Path, index_dir: Path, poll: bool
) -> None:
    """Run gunicorn as a child and the watcher here; when either ends, end the other."""
    import signal
    import subprocess
    import threading

    server = subprocess.Popen(command, env=env)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())  # and so stop gunicorn

    def server_ended() -> None:
        server.wait()
        stop.set()

    threading.Thread(target=server_ended, daemon=True).start()
    try:
        _watch(ctx, seeds, _rebuilder(ctx, seeds, index_dir), poll, stop, catch_up=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
            server.wait()
    sys.exit(server.returncode or 0)


@cli.command("eval")
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
    workers = _processes_for(ctx, index_dir, workers, "evaluating")
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
            _settings(ctx),
            articles,
            split,
            articles_dir,
        )
    except _core_errors() as err:
        raise QAError(str(err)) from None
    finally:
        bar.close()
    click.echo(json.dumps(results, indent=2) if as_json else format_table(results))


def _own_off_topic(data_dir: Path) -> Path | None:
    """Return the off-topic questions that come with an eval folder, if it has them."""
    path = data_dir / "off_topic.jsonl"
    return path if path.is_file() else None


def main() -> None:
    """Run the CLI (console script entry point)."""
    cli()
