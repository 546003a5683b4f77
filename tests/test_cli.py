"""The `qa` command line: output, JSON shape, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli


@pytest.fixture
def runner(fake_embedder):
    """Invoke the CLI in-process with the fake embedder."""
    base = CliRunner()

    class Runner:
        def invoke(self, args):
            return base.invoke(cli, args, obj={"embedder": fake_embedder})

    return Runner()


@pytest.fixture
def built(runner, tiny_seeds, tmp_path):
    ix = tmp_path / "ix"
    result = runner.invoke(["index", "--seeds", str(tiny_seeds), "--index", str(ix)])
    assert result.exit_code == 0, result.output
    return ix


def test_index_summary(runner, tiny_seeds, tmp_path):
    (tiny_seeds / "junk.txt").write_text("no header here")
    result = runner.invoke(["index", "--seeds", str(tiny_seeds), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0
    assert "5 articles" in result.output and "5 added" in result.output
    assert "1 skipped" in result.output
    assert "junk.txt" in result.output and "JSON header" in result.output


def test_index_json_report(runner, tiny_seeds, tmp_path):
    args = ["index", "--seeds", str(tiny_seeds), "--index", str(tmp_path / "ix"), "--json"]
    report = json.loads(runner.invoke(args).output)
    assert report["articles"] == 5 and report["generation"].startswith("gen-")
    assert json.loads(runner.invoke(args).output)["unchanged"] == 5


def test_env_variables_set_the_folders(runner, tiny_seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSQA_SEEDS", str(tiny_seeds))
    monkeypatch.setenv("NEWSQA_INDEX", str(tmp_path / "env-ix"))
    assert runner.invoke(["index"]).exit_code == 0
    assert (tmp_path / "env-ix" / "current").exists()


def test_ask_json_shape(runner, built):
    result = runner.invoke(["ask", "Bird European expansion", "--index", str(built), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert set(answer) >= {"question", "answer", "citations"}
    assert answer["answer"] == answer["citations"][0]["snippet"]
    for c in answer["citations"]:
        assert set(c) >= {
            "snippet",
            "title",
            "date",
            "author",
            "url",
            "score",
            "start",
            "end",
            "highlight",
        }
        assert len(c["snippet"]) <= 400


def test_ask_text_output(runner, built):
    result = runner.invoke(["ask", "Bird European expansion", "--index", str(built), "-k", "2"])
    assert result.exit_code == 0
    exact, first, source = result.output.splitlines()[:3]  # the answer words, the citations
    # quoted from the first citation: its snippet, or its headline (the line under it)
    assert exact and first.startswith("[1] ") and (exact in first or exact in source)
    assert "[2] " in result.output and "[3] " not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "--seeds", "/no/such/folder"], "does not exist"),
        (["ask", "   "], "question is empty"),
        (["ask", "x" * 10_000], "10,000 characters"),
        (["ask", "anything", "--index", "/no/such/index"], "no index at"),
        (["ask", "anything", "-k", "0"], "0 is not in the range"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(runner, args, message):
    result = runner.invoke(args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)


def test_empty_seeds_folder(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(["index", "--seeds", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "holds no files" in result.output


def test_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; from cli.main import cli; sys.argv=['qa','--help']\n"
    code += "try: cli()\nexcept SystemExit: pass\nassert 'torch' not in sys.modules, 'torch'\n"
    code += "assert 'faiss' not in sys.modules, 'faiss'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_ask_explain_lists_every_ranking(runner, built):
    args = ["ask", "Bird European expansion", "--index", str(built), "--json"]
    result = runner.invoke([*args, "--explain", "--no-rerank", "-k", "3"])
    assert result.exit_code == 0, result.output
    explain = json.loads(result.output)["explain"]
    assert explain["mode"] == "hybrid"
    assert explain["bm25"] and explain["dense"] and explain["fused"]
    assert explain["reranked"] == []  # --no-rerank
    assert "explain" not in json.loads(runner.invoke([*args, "--no-rerank"]).output)
    bm25_only = json.loads(
        runner.invoke([*args, "--explain", "--no-rerank", "--mode", "bm25"]).output
    )
    assert bm25_only["explain"]["dense"] == [] and bm25_only["explain"]["bm25"]


def test_ask_filters_from_the_command_line(runner, built):
    args = ["ask", "Bird European expansion", "--index", str(built), "--json", "--no-rerank"]
    answer = json.loads(runner.invoke([*args, "--author", "Anthony Ha"]).output)
    assert answer["citations"] and {c["author"] for c in answer["citations"]} == {"Anthony Ha"}
    none = json.loads(runner.invoke([*args, "--before", "2000-01-01"]).output)
    assert none["answer"] is None and none["citations"] == [] and "filters" in none["message"]
    bad = runner.invoke([*args, "--after", "yesterday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


@pytest.mark.parametrize(("store", "expected"), [("faiss", 3), ("milvus", 1)])
def test_eval_workers_share_no_milvus_lite_file(runner, tmp_path, monkeypatch, store, expected):
    import qa.evaluation.run

    monkeypatch.setenv("NEWSQA_STORE", store)
    monkeypatch.delenv("NEWSQA_MILVUS_URI", raising=False)  # Lite: one process per file
    calls = []
    monkeypatch.setattr(
        qa.evaluation.run, "evaluate", lambda *args: calls.append(args) or {"variants": {}}
    )
    result = runner.invoke(["eval", str(tmp_path), "--workers", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert calls[0][5] == expected  # the workers argument
    assert ("Milvus Lite" in result.output) is (store == "milvus")
