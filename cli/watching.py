"""`--watch`: rebuild the index after each settled change in the seeds folder."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import backend_of, core_errors, embedder_of


def rebuilder(ctx: click.Context, seeds: Path, index_dir: Path, embedder=None, after=None):
    """Return what --watch runs on each settled change: an incremental build, one log line."""
    from datetime import datetime

    from index.build import build

    def rebuild() -> None:
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            backend = backend_of(ctx, index_dir)
            report = build(seeds, index_dir, embedder or embedder_of(ctx), backend=backend)
        except core_errors() as err:  # an emptied folder, a build held elsewhere: watch on
            click.echo(f"{stamp} rebuild failed: {err}", err=True)
            return
        if after is not None:
            after()
        click.echo(f"{stamp} {report.summary()}", err=True)

    return rebuild


def watch(
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
    from cli.feeds import start_polling

    # Subscribed feeds' new items land in the folder once it is watched, and get indexed.
    start_polling(ctx, seeds, stop, after=watcher.watching)
    with contextlib.suppress(KeyboardInterrupt):
        watcher.run(stop)


watch_option = click.option(
    "--watch",
    is_flag=True,
    help="Then watch the seeds folder: rebuild after each change, one log line each.",
)
poll_option = click.option(
    "--poll", is_flag=True, help="With --watch: look at the folder every 0.5 s, not via inotify."
)
