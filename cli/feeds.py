"""`qa feeds`: subscribe to RSS/Atom feeds, list them, poll them into the seeds folder."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import click

from cli.common import QAError, core_errors, seeds_option, settings_of
from index.sources.feed_state import FeedState
from index.sources.subscriptions import (
    MIN_INTERVAL,
    Subscription,
    add_subscription,
    import_opml,
    read_subscriptions,
    remove_subscription,
    subscriptions_path,
)

interval_option = click.option(
    "--interval",
    type=click.IntRange(min=MIN_INTERVAL),
    default=None,
    help="Seconds between two polls of this feed (default: env NEWSQA_FEED_INTERVAL, else 900).",
)


def poller_of(ctx: click.Context, seeds: Path):
    """Return the poller for a seeds folder (limits and clock may be set by a test)."""
    from index.sources.feed_fetch import Limits
    from index.sources.feeds import FeedPoller

    options = {"limits": ctx.obj.get("feed_limits") or Limits()}
    if "feed_clock" in ctx.obj:
        options["clock"] = ctx.obj["feed_clock"]
    return FeedPoller(seeds, interval=settings_of(ctx).feed_interval, **options)


def _stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@click.group("feeds")
@click.pass_context
def feeds_cmd(ctx: click.Context) -> None:
    """Subscribe to RSS/Atom feeds: their new items become files in the seeds folder."""
    ctx.ensure_object(dict)


@feeds_cmd.command("add")
@click.argument("url")
@seeds_option
@interval_option
def add_cmd(url: str, seeds: Path, interval: int | None) -> None:
    """Subscribe to the feed at URL (an http:// or https:// address)."""
    try:
        added = add_subscription(seeds, url, interval)
    except core_errors() as err:
        raise QAError(str(err)) from None
    if added:
        click.echo(f"subscribed to {url.strip()} (in {subscriptions_path(seeds)})")
    else:
        click.echo(f"already subscribed to {url.strip()}: nothing changed")


@feeds_cmd.command("import")
@click.argument("opml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@seeds_option
@interval_option
def import_cmd(opml: Path, seeds: Path, interval: int | None) -> None:
    """Subscribe to every feed listed in an OPML file (folders included)."""
    try:
        done = import_opml(seeds, opml.read_bytes(), interval)
    except core_errors() as err:
        raise QAError(str(err)) from None
    for url in done.added:
        click.echo(f"subscribed to {url}")
    for url, why in done.refused:
        click.echo(f"skipped {url!r}: {why}", err=True)
    click.echo(
        f"{len(done.added)} feeds added, {len(done.present)} already subscribed, "
        f"{len(done.refused)} skipped"
    )


@feeds_cmd.command("list")
@seeds_option
@click.pass_context
def list_cmd(ctx: click.Context, seeds: Path) -> None:
    """List the subscribed feeds: interval, last poll, failures, next poll."""
    from index.sources.feed_state import load_states

    try:
        subs = read_subscriptions(seeds)
    except core_errors() as err:
        raise QAError(str(err)) from None
    if not subs:
        click.echo(f"no feeds subscribed (qa feeds add URL writes {subscriptions_path(seeds)})")
        return
    poller, states = poller_of(ctx, seeds), load_states(seeds)
    now = poller.clock()
    for sub in subs:
        click.echo(_listing(sub, states.get(sub.url), poller.interval_of(sub), now))


def _listing(sub: Subscription, state: FeedState | None, interval: int, now: float) -> str:
    """Return one feed's line for `qa feeds list`."""
    from index.sources.feeds import format_wait

    line = f"{sub.url}  every {format_wait(interval)}"
    if state is None or not state.last_poll:
        return line + "  never polled (due now)"
    line += f"  last poll {format_wait(now - state.last_poll)} ago"
    if state.failures:
        line += f"  failing ({state.failures}x): {state.error}"
    return line + f"  next poll in {format_wait(state.due(interval) - now)}"


@feeds_cmd.command("remove")
@click.argument("url")
@seeds_option
def remove_cmd(url: str, seeds: Path) -> None:
    """Unsubscribe from the feed at URL (its item files stay in the seeds folder)."""
    try:
        removed = remove_subscription(seeds, url)
    except core_errors() as err:
        raise QAError(str(err)) from None
    if not removed:
        raise QAError(f"not subscribed to {url.strip()}")
    click.echo(f"unsubscribed from {url.strip()}")


@feeds_cmd.command("poll")
@seeds_option
@click.pass_context
def poll_cmd(ctx: click.Context, seeds: Path) -> None:
    """Poll every due feed once; one line per feed (a failed feed never stops the others)."""
    poller = poller_of(ctx, seeds)
    try:
        results = poller.poll()
    except core_errors() as err:
        raise QAError(str(err)) from None
    except OSError as err:
        raise QAError(f"cannot poll into {seeds}: {err}") from None
    if not results:
        click.echo(f"no feeds subscribed (qa feeds add URL writes {subscriptions_path(seeds)})")
    for result in results:
        click.echo(result.describe())


def start_polling(
    ctx: click.Context, seeds: Path, stop: threading.Event, after: threading.Event | None = None
) -> threading.Thread:
    """Poll the subscribed feeds in a daemon thread until `stop` (for --watch).

    after: wait for it first (the watcher's `watching`: items written before it would be missed).
    """
    poller = poller_of(ctx, seeds)
    if subscriptions_path(seeds).exists():
        click.echo(f"polling the feeds in {subscriptions_path(seeds)} as they fall due", err=True)

    def report(line: str) -> None:
        click.echo(f"{_stamp()} feed {line}", err=True)

    def work() -> None:
        while after is not None and not after.wait(0.1):
            if stop.is_set():
                return
        poller.run(stop, report)

    thread = threading.Thread(target=work, name="newsqa-feeds", daemon=True)
    thread.start()
    return thread
