"""Watching the seeds folder: a file copied in is answerable soon, a half-written one waits."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from index.build import build
from index.errors import IndexFormatError
from index.sources.watcher import SeedsWatcher
from index.store import load_index

FORMATS = Path(__file__).parent / "data" / "formats"
FEED = FORMATS / "city-desk.rss"
QUESTION = "How many passengers will each Bayline electric catamaran carry?"
TITLE = "Ferry operator orders two electric catamarans for the harbour crossing"
BOUND = 5.0  # seconds: the promise, from the file's arrival to an answer from it


class Watching:
    """A watcher running in a thread, building with the fake embedder; it keeps the reports."""

    def __init__(self, seeds: Path, index_dir: Path, embedder, polling: bool = False) -> None:
        self.reports = []
        self.watcher = SeedsWatcher(
            seeds,
            lambda: self.reports.append(build(seeds, index_dir, embedder)),
            polling=polling,
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Watching:
        self.thread.start()
        assert self.watcher.watching.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)

    def wait_for(self, count: int, bound: float = 10.0) -> None:
        """Wait until `count` rebuilds have run (generous bound: a loaded machine is slow)."""
        deadline = time.monotonic() + bound
        while len(self.reports) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.reports) >= count, f"{len(self.reports)} rebuilds, wanted {count}"


def test_a_copied_file_is_answerable_within_five_seconds(tiny_seeds, tmp_path, fake_embedder):
    from web import create_app

    ix = tmp_path / "ix"
    build(tiny_seeds, ix, fake_embedder)
    app = create_app(
        {"RERANK": False, "READ": False, "INDEX_DIR": str(ix), "SEEDS_DIR": str(tiny_seeds)},
        embedder=fake_embedder,
    )
    client = app.test_client()
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200
    with Watching(tiny_seeds, ix, fake_embedder):
        arrived = time.monotonic()
        shutil.copy(FEED, tiny_seeds / FEED.name)
        statuses, answered = [], None
        while answered is None and time.monotonic() - arrived < BOUND:
            response = client.post("/api/ask", json={"question": QUESTION})
            statuses.append(response.status_code)
            citations = response.get_json().get("citations") or []
            if citations and citations[0]["title"] == TITLE:
                answered = time.monotonic() - arrived
            time.sleep(0.05)
    assert set(statuses) == {200}  # no failed request while the index changed under them
    assert answered is not None, f"not answerable {BOUND:g} s after the file arrived"
    print(f"answerable {answered:.2f} s after the copy ({len(statuses)} requests)")


def test_a_half_written_file_is_not_read_until_closed(tmp_path, fake_embedder):
    seeds, ix = tmp_path / "seeds", tmp_path / "ix"
    seeds.mkdir()
    shutil.copy(FORMATS / "radio-transcript.txt", seeds)
    build(seeds, ix, fake_embedder)
    data = FEED.read_bytes()
    with Watching(seeds, ix, fake_embedder) as watching:
        with open(seeds / FEED.name, "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(1.0)  # well past the quiet time: only the open file holds the rebuild
            fh.write(data[len(data) // 2 :])
        watching.wait_for(1)
        time.sleep(0.5)  # a second rebuild, had the half been read, would come now
    (report,) = watching.reports
    assert len(report.added) == 2 and not report.skipped


@pytest.mark.slow
def test_polling_sees_a_new_file_too(tmp_path, fake_embedder):
    seeds, ix = tmp_path / "seeds", tmp_path / "ix"
    seeds.mkdir()
    shutil.copy(FORMATS / "radio-transcript.txt", seeds)
    build(seeds, ix, fake_embedder)
    with Watching(seeds, ix, fake_embedder, polling=True) as watching:
        shutil.copy(FORMATS / "wire-export.jsonl", seeds)
        watching.wait_for(1)
    assert len(watching.reports[0].added) == 2


@pytest.mark.parametrize("poll", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_qa_index_watch_logs_one_line_per_rebuild(poll, tiny_seeds, tmp_path, fake_embedder):
    ix, stop = tmp_path / "ix", threading.Event()
    args = ["index", "--seeds", str(tiny_seeds), "--index", str(ix), "--watch"]
    obj = {"embedder": fake_embedder, "watch_stop": stop}
    results = []
    runner = threading.Thread(
        target=lambda: results.append(
            CliRunner().invoke(cli, args + (["--poll"] if poll else []), obj=obj)
        )
    )
    runner.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "watcher" not in obj:
        time.sleep(0.05)
    assert obj["watcher"].watching.wait(5)  # the first build is done, the folder watched
    shutil.copy(FORMATS / "newsroom-export.csv", tiny_seeds)
    while time.monotonic() < deadline and _article_count(ix) < 7:
        time.sleep(0.05)
    stop.set()
    runner.join(10)
    (result,) = results
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("5 articles") and "watching" in lines[1]
    assert [line for line in lines[2:] if "7 articles" in line and "2 added" in line]


def _article_count(ix: Path) -> int:
    """Count the live generation's articles (0 if a newer build removed it while we read it)."""
    try:
        return len(load_index(ix).articles)
    except IndexFormatError:  # `current` named a generation that a second rebuild retired
        return 0


class FakeServer:
    """Stands in for the gunicorn child of `qa serve --watch`: it exits after a moment."""

    started: list[list[str]] = []
    real = None  # subprocess.Popen, for the other children (the build's parser)

    def __new__(cls, command: list[str], **options):
        if command[-1] != "web.wsgi:app":
            return cls.real(command, **options)
        return super().__new__(cls)

    def __init__(self, command: list[str], env: dict) -> None:
        FakeServer.started.append(command)
        self.returncode = None

    def wait(self) -> int:
        time.sleep(0.5)
        self.returncode = 0
        return 0

    def poll(self) -> int | None:
        return self.returncode

    def terminate(self) -> None:
        self.returncode = -15


def test_serve_watch_runs_the_server_and_the_watcher(
    monkeypatch, tiny_seeds, tmp_path, fake_embedder
):
    import subprocess

    FakeServer.real = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    args = ["serve", "--watch", "--seeds", str(tiny_seeds), "--index", str(tmp_path / "ix")]
    result = CliRunner().invoke(cli, args, obj={"embedder": fake_embedder})
    assert result.exit_code == 0, result.output
    assert "watching" in result.output  # and it stopped when the server did
    assert FakeServer.started[-1][-1] == "web.wsgi:app"
    # It caught up with the folder first: what changed while nothing watched is served.
    assert "5 articles" in result.output and len(load_index(tmp_path / "ix").articles) == 5
