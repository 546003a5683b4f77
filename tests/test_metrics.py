"""GET /metrics: Prometheus counters of requests, stages, shed questions; the index's gauges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from web.gate import QuestionGate
from web.metrics import time_stages

QUESTION = {"question": "Bird European expansion"}
AUTH = {"Authorization": "Bearer secret"}
ASK = ("/api/ask", "POST", "200")


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Return every sample of GET /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def requests(route: str, method: str, status: str) -> tuple[str, tuple]:
    labels = {"route": route, "method": method, "status": status}
    return "newsqa_http_requests_total", tuple(sorted(labels.items()))


def one(name: str, **labels: str) -> tuple[str, tuple]:
    return name, tuple(sorted(labels.items()))


def grown(before: dict, after: dict, key: tuple[str, tuple]) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_requests_are_counted_by_route_method_and_status(client):
    client.post("/api/ask", json=QUESTION)  # the index loads (its warm-up is not counted)
    before = scrape(client)
    for _ in range(3):
        assert client.post("/api/ask", json=QUESTION).status_code == 200
    for path in ("/nowhere", "/api/nowhere"):
        assert client.get(path).status_code == 404
    assert client.get("/api/articles/no/such/article").status_code == 404
    after = scrape(client)
    assert grown(before, after, requests(*ASK)) == 3
    assert grown(before, after, requests("unmatched", "GET", "404")) == 2  # never the raw path
    article = "/api/articles/<path:article_id>"
    assert grown(before, after, requests(article, "GET", "404")) == 1
    assert grown(before, after, one("newsqa_http_request_seconds_count", route="/api/ask")) == 3
    assert grown(before, after, requests("/metrics", "GET", "200")) == 1  # the first scrape
    assert not any("nowhere" in str(labels) for _, labels in after)


def test_each_stage_that_ran_is_timed_once_per_question(client):
    client.post("/api/ask", json=QUESTION)
    before = scrape(client)
    for question in ("Which company did Cruise acquire?", "Who bought Voyage?"):  # not cached
        assert client.post("/api/ask", json={"question": question}).status_code == 200
    after = scrape(client)
    for stage in ("search", "selection", "decision"):
        assert grown(before, after, one("newsqa_stage_seconds_count", stage=stage)) == 2, stage
    # The app fixture turns the cross-encoder and the span reader off: those stages hand their
    # input back untouched, and timing needs both; a skipped stage is not observed.
    for stage in ("reranking", "extraction", "timing"):
        assert grown(before, after, one("newsqa_stage_seconds_count", stage=stage)) == 0, stage


def test_an_answer_is_the_same_with_its_stages_timed(client, web_index, fake_embedder):
    from qa.pipeline import Answerer

    timed = client.post("/api/ask", json=QUESTION).get_json()
    plain = Answerer.open(web_index, fake_embedder, rerank=False, read=False)
    assert timed == plain.ask(QUESTION["question"], 5).to_json()
    again = Answerer.open(web_index, fake_embedder, rerank=False, read=False)
    time_stages(again)
    time_stages(again)  # once only: a second call changes nothing
    assert again.decision.inner is not None and not hasattr(again.decision.inner, "inner")
    assert again.ask(QUESTION["question"], 5).to_json() == timed
    assert [s.name for s in again.stages] == [
        "search",
        "selection",
        "reranking",
        "extraction",
        "timing",
    ]


def test_a_refused_question_is_shed_and_an_admitted_one_waited(app, client):
    before = scrape(client)
    gate = app.extensions["newsqa.gate"] = QuestionGate(limit=1, wait=5.0)
    with gate.admit():  # the one place in line is taken: the next question is refused
        response = client.post("/api/ask", json=QUESTION)
        assert response.status_code == 503
        assert client.get("/metrics").status_code == 200  # /metrics never waits at the gate
    after = scrape(client)
    assert grown(before, after, one("newsqa_shed_total")) == 1
    assert grown(before, after, requests("/api/ask", "POST", "503")) == 1
    assert grown(before, after, one("newsqa_queue_wait_seconds_count")) == 1  # this test's own
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    final = scrape(client)
    assert grown(after, final, one("newsqa_queue_wait_seconds_count")) == 1
    assert grown(after, final, one("newsqa_shed_total")) == 0


def test_the_generation_gauges_follow_the_served_generation(app, client, tiny_seeds):
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    health = client.get("/healthz").get_json()
    samples = scrape(client)
    assert samples[one("newsqa_index_generation")] == int(health["generation"].split("-")[-1])
    age = time.time() - datetime.fromisoformat(health["built"]).timestamp()
    assert abs(samples[one("newsqa_index_age_seconds")] - age) < 5
    assert one("newsqa_last_build_seconds") not in samples  # no rebuild yet
    (tiny_seeds / "zebra.txt").write_text(
        '{"title": "Zebras take over Oslo", "date": "2024-05-01", "author": "Ann Lee"}\n'
        "<p>A herd of 300 zebras took over the streets of Oslo on Tuesday morning.</p>\n"
    )
    assert client.post("/api/rebuild", headers=AUTH).status_code == 202
    app.extensions["newsqa.rebuilder"].wait(60)
    status = client.get("/api/rebuild", headers=AUTH).get_json()
    assert status["state"] == "done", status
    samples = scrape(client)
    assert samples[one("newsqa_last_build_seconds")] == status["report"]["seconds"]
    new = int(status["report"]["generation"].split("-")[-1])
    assert samples[one("newsqa_index_generation")] == new
    assert new == int(client.get("/healthz").get_json()["generation"].split("-")[-1])


# The same code path as `qa serve`: worker_environment picks the folder, the workers' settings
# read it; a forked worker counts into its own file and the scrape sums every worker's.
MULTIPROCESS = textwrap.dedent(
    """
    import json, os, sys
    from index.settings import Settings
    from tests.conftest import FakeEmbedder
    from web import create_app
    from web.gunicorn_hooks import child_exit, on_exit

    settings = Settings.from_env()
    config = {"TESTING": True, "RERANK": False, "READ": False, "INDEX_DIR": sys.argv[1]}
    app = create_app(config, embedder=FakeEmbedder(), settings=settings)
    question = {"question": "Bird European expansion"}
    pid = os.fork()
    if pid == 0:  # a worker
        client = app.test_client()
        asked = [question, {"question": "Who bought Voyage?"}]  # two: a repeat is cached
        codes = [client.post("/api/ask", json=q).status_code for q in asked]
        os._exit(0 if codes == [200, 200] else 1)
    _, code = os.waitpid(pid, 0)
    child_exit(None, type("Worker", (), {"pid": pid}))
    client = app.test_client()
    client.post("/api/ask", json=question)
    text = client.get("/metrics").get_data(as_text=True)
    files = sorted(os.listdir(settings.metrics_dir))
    on_exit(None)  # the master ends: the folder it was given goes
    gone = not settings.metrics_dir.exists()
    print(json.dumps({"code": code, "dir": str(settings.metrics_dir), "metrics": text,
                      "files": files, "gone": gone}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork, as gunicorn does")
def test_several_workers_are_summed_in_multiprocess_mode(web_index):
    from index.settings import Settings, worker_environment

    env = worker_environment(Settings(index_dir=web_index))
    folder = env["PROMETHEUS_MULTIPROC_DIR"]
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS, str(web_index)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    shutil.rmtree(folder, ignore_errors=True)  # a fresh temp folder, made for this "server"
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0 and out["dir"] == folder and "newsqa-metrics-" in folder
    assert len([f for f in out["files"] if f.startswith("counter_")]) == 2  # one per process
    assert out["gone"]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out["metrics"])
        for s in family.samples
    }
    assert samples[requests(*ASK)] == 3  # two in the forked worker, one in the scraping one
    assert samples[one("newsqa_stage_seconds_count", stage="search")] == 3
    assert samples[one("newsqa_index_generation")] == 1
