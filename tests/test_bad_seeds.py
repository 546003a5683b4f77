"""A folder of bad seeds: every bad file is named with its reason, the good one is indexed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from index.build import build
from index.store import load_index

BAD_SEEDS = Path(__file__).parent / "data" / "bad-seeds"
EXPECTED = {
    "binary.png": "binary",
    "empty.txt": "empty",
    "broken-header.txt": "broken JSON header",
    "latin1.txt": "not UTF-8",
    "no-body.txt": "no body text",
    "notes.txt": "no JSON header",
    "huge.txt": "too large",
}


@pytest.fixture
def bad_seeds(tmp_path: Path) -> Path:
    """The committed bad seeds plus a 50 MB file made on the spot (too big to commit)."""
    folder = tmp_path / "bad-seeds"
    shutil.copytree(BAD_SEEDS, folder)
    with open(folder / "huge.txt", "wb") as fh:
        fh.write(b'{"title": "Huge"}\n<p>')
        fh.truncate(50 * 1024 * 1024)
    return folder


def test_every_bad_file_is_reported_and_skipped(bad_seeds, tmp_path, fake_embedder):
    report = build(bad_seeds, tmp_path / "ix", fake_embedder)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(EXPECTED)
    for name, reason in EXPECTED.items():
        assert reason in reasons[name], (name, reasons[name])
    assert report.added == ("good-article",)
    assert list(load_index(tmp_path / "ix").articles) == ["good-article"]


def test_cli_json_report_names_every_bad_file(bad_seeds, tmp_path, fake_embedder):
    args = ["index", "--seeds", str(bad_seeds), "--index", str(tmp_path / "ix"), "--json"]
    result = CliRunner().invoke(cli, args, obj={"embedder": fake_embedder})
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {Path(s["path"]).name for s in report["skipped"]} == set(EXPECTED)
    assert report["articles"] == 1


def test_bad_seeds_never_damage_a_served_index(bad_seeds, tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    for bad in bad_seeds.iterdir():
        if bad.name != "good-article.txt":
            shutil.copy(bad, tiny_seeds / bad.name)
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder)
    assert len(report.skipped) == len(EXPECTED) and report.generation is None
    assert len(load_index(tmp_path / "ix").articles) == 5
