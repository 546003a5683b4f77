"""gunicorn server hooks of `qa serve` (`--config python:web.gunicorn_hooks`)."""

from __future__ import annotations

import gc


def pre_fork(server, worker) -> None:  # noqa: ANN001 - gunicorn's API
    """Move the master's objects out of the collector's reach before forking.

    The collector writes to every object it visits; frozen, the pages of the preloaded
    models' Python objects stay shared with the workers instead of being copied into each.
    """
    gc.freeze()


def post_fork(server, worker) -> None:  # noqa: ANN001 - gunicorn's API
    """Load the index in each worker, after the fork: no connection or Lite server crosses it."""
    from web.wsgi import app

    app.extensions["newsqa.index"].warm()


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's API
    """Tell the metrics a worker is gone (its counts stay in GET /metrics's sums)."""
    from index.settings import Settings
    from web.metrics import process_ended

    process_ended(worker.pid, Settings.from_env().metrics_dir)


def on_exit(server) -> None:  # noqa: ANN001 - gunicorn's API
    """Remove the metrics folder `qa serve` made for this server, as the master ends."""
    from index.settings import Settings
    from web.metrics import server_ended

    server_ended(Settings.from_env().metrics_dir)


def worker_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's API
    """End the worker after its exit functions, skipping the interpreter's teardown.

    ONNX Runtime's thread pools opened after the fork (the elastic sessions, web/cores.py)
    hang in their destructors as the interpreter tears down, and the one-thread pools abort
    there (std::system_error). The exit functions still run: they stop this worker's Milvus
    Lite servers and flush the logs.
    """
    import atexit
    import os
    import sys

    atexit._run_exitfuncs()  # noqa: SLF001 - the documented-in-spirit way to run them early
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
