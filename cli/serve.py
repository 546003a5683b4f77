"""`qa serve`: the chat page and the JSON API under gunicorn (or Flask's server with --dev)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli import watching
from cli.common import QAError, index_option, processes_for, seeds_option, settings_of
from cli.watching import poll_option, watch_option
from index.settings import worker_environment


@click.command("serve")
@index_option
@seeds_option
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
@watch_option
@poll_option
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
    settings = settings_of(ctx)
    max_queue = max_queue or settings.max_queue
    if threads <= max_queue:  # else a full queue of questions could hold every thread
        raise QAError(
            f"--threads ({threads}) must be more than --max-queue ({max_queue}), so that "
            "/healthz and the refusals always find a free thread"
        )
    workers = processes_for(ctx, index_dir, workers, "serving")
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
        _serve_dev(ctx, settings, host, port, watch, poll)
        return
    command = [*_gunicorn(host, port, workers, threads, keepalive), "web.wsgi:app"]
    environment = worker_environment(settings)
    if watch:
        _serve_and_watch(ctx, command, environment, seeds, index_dir, poll)
    else:  # gunicorn takes over this process
        os.execvpe(sys.executable, command, environment)


def _gunicorn(host: str, port: int, workers: int, threads: int, keepalive: int) -> list[str]:
    """Return the gunicorn command line (without the app) for these options."""
    # web/worker.py: gunicorn's threaded worker, where an idle or slow client holds no thread
    # (sync workers were each held by one idle socket: two of them stopped the service).
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    command += ["--workers", str(workers), "--worker-class", "web.worker.GuardedWorker"]
    command += ["--threads", str(threads), "--keep-alive", str(keepalive)]
    # --timeout is the heartbeat, not a request limit: a worker loading a big index is slow.
    command += ["--timeout", "120", "--access-logfile", "-"]
    # The models load once in the master and are shared by the forked workers; each worker
    # loads the (mapped) index after the fork (web/wsgi.py, web/gunicorn_hooks.py).
    return command + ["--preload", "--config", "python:web.gunicorn_hooks"]


def _serve_dev(ctx, settings, host: str, port: int, watch: bool, poll: bool) -> None:
    """Serve with Flask's development server (one process; --watch in a thread)."""
    from web import create_app

    app = create_app(settings=settings)
    if watch:  # the watcher builds with the app's own model, then switches it over
        source = app.extensions["newsqa.index"]
        rebuild = watching.rebuilder(
            ctx, settings.seeds_dir, settings.index_dir, source.embedder, source.refresh
        )
        _in_thread(
            lambda stop: watching.watch(ctx, settings.seeds_dir, rebuild, poll, stop, catch_up=True)
        )
    app.run(host=host, port=port, threaded=True)


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
        watching.watch(
            ctx, seeds, watching.rebuilder(ctx, seeds, index_dir), poll, stop, catch_up=True
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
            server.wait()
    sys.exit(server.returncode or 0)
