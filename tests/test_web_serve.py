"""`qa serve` in production mode: gunicorn, real model, started before any index exists."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest

pytestmark = pytest.mark.slow  # gunicorn in subprocesses

QA = Path(sys.executable).parent / "qa"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, payload: dict | None = None, content_type: str = "application/json"):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.mark.model
def test_gunicorn_answers_503_then_picks_up_the_index(tmp_path, default_index):
    index_dir = tmp_path / "var" / "index"
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    env = {k: v for k, v in os.environ.items() if k != "NEWSQA_ADMIN_TOKEN"}
    server = subprocess.Popen(
        [str(QA), "serve", "--index", str(index_dir), "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, health = _call(f"{base}/healthz")
                break
            except URLError:
                assert server.poll() is None and time.monotonic() < deadline, "server never came up"
                time.sleep(0.3)
        assert "gunicorn" in headers.get("Server", "")
        assert status == 503 and health["index_loaded"] is False
        status, _, body = _call(f"{base}/api/ask", {"question": "how much did Alibaba invest?"})
        assert status == 503 and "qa index" in body["error"]["message"]
        assert _call(f"{base}/api/nope")[0] == 404
        assert _call(f"{base}/api/ask", {"question": "x"}, "text/plain")[0] == 415
        assert _call(f"{base}/api/ask", {"question": "x" * 70_000})[0] == 413

        # `qa index` finishes meanwhile (published atomically, as index/store.py does it).
        # Skip Milvus Lite's lock file: this process may serve default_index, and closing any
        # descriptor of a file drops the process's POSIX lock on it, which stops the Lite server.
        shutil.copytree(
            default_index, tmp_path / "staging", ignore=shutil.ignore_patterns(".*.lock")
        )
        index_dir.parent.mkdir()
        os.rename(tmp_path / "staging", index_dir)
        deadline = time.monotonic() + 180
        while status == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
            status, _, body = _call(f"{base}/api/ask", {"question": "how much did Alibaba invest?"})
        assert status == 200, body
        assert "US$200 million" in body["answer"]
        assert "Alibaba" in body["citations"][0]["title"]
        status, _, health = _call(f"{base}/healthz")
        assert status == 200 and health["articles"] == 101
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]


def test_serve_passes_its_options_to_the_workers(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli
    from index.settings import Settings

    for name in ("NEWSQA_INDEX", "NEWSQA_SEEDS", "NEWSQA_RERANK", "NEWSQA_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NEWSQA_MAX_QUEUE", raising=False)
    calls = []
    monkeypatch.setattr(os, "execvpe", lambda file, argv, env: calls.append((argv, env)))
    args = ["serve", "--index", str(tmp_path / "ix"), "--seeds", str(tmp_path / "s"), "--no-rerank"]
    args += ["--threads", "6", "--max-queue", "3", "--keep-alive", "7"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    [(argv, env)] = calls
    assert argv[1:3] == ["-m", "gunicorn"] and argv[-1] == "web.wsgi:app"
    # The master loads the models once and forks; each worker loads the index after the fork.
    assert argv[-4:-1] == ["--preload", "--config", "python:web.gunicorn_hooks"]
    option = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 4, 2)}
    assert option["--worker-class"] == "web.worker.GuardedWorker"  # not one sync worker each
    assert (option["--threads"], option["--keep-alive"]) == ("6", "7")
    assert env["NEWSQA_INDEX"] == str(tmp_path / "ix") and env["NEWSQA_SEEDS"] == str(
        tmp_path / "s"
    )
    assert (
        env["NEWSQA_THREADS"] == env["OMP_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    )
    assert env["NEWSQA_MAX_QUEUE"] == "3"
    assert "NEWSQA_INDEX" not in os.environ  # the workers get them, this process is unchanged
    from web import create_app

    settings = Settings.from_env(env)  # what a worker reads
    assert settings.index_dir == tmp_path / "ix" and not settings.rerank
    app = create_app(settings=settings)
    assert app.extensions["newsqa.index"].options["rerank"] is False
    assert app.extensions["newsqa.gate"].limit == 3
    options = create_app(settings=settings.with_(rerank=True)).extensions["newsqa.index"].options
    assert options["rerank"] is True
    result = CliRunner().invoke(cli, [*args, "--max-queue", "6"])
    assert result.exit_code == 2 and "--threads (6) must be more than --max-queue" in result.output


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_serve_runs_one_worker_on_a_milvus_lite_file(store, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    monkeypatch.setenv("NEWSQA_STORE", store)
    monkeypatch.delenv("NEWSQA_MILVUS_URI", raising=False)
    calls = []
    monkeypatch.setattr(os, "execvpe", lambda file, argv, env: calls.append(argv))
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    workers = calls[0][calls[0].index("--workers") + 1]
    if store == "milvus":  # Lite lets one process open a file: a second worker could not
        assert workers == "1" and "Milvus Lite" in result.output
    else:
        assert workers == "2" and "Milvus" not in result.output
    monkeypatch.setenv("NEWSQA_STORE", "pinecone")
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 2 and "NEWSQA_STORE" in result.output
