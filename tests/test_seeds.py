"""The seeds folder: links out of it are skipped with a reason, ids are safe in a URL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ALIYUN, SEEDS

from index.build import build
from index.errors import SeedsError
from index.sources.seeds import article_id, scan_seeds
from index.store import load_index
from web import create_app

OUTSIDE = '{"title": "Secret", "author": "Eve"}\n<p>The payroll password is hunter2.</p>\n'


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A seeds folder with one real article, and an article-shaped file outside it."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / ALIYUN, folder / ALIYUN)
    (tmp_path / "secret.txt").write_text(OUTSIDE)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret2.txt").write_text(OUTSIDE.replace("hunter2", "swordfish"))
    return folder


def _reasons(report) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in report.skipped}


def test_links_out_of_the_folder_are_skipped_with_a_reason(seeds, tmp_path, fake_embedder):
    (seeds / "absolute.txt").symlink_to(tmp_path / "secret.txt")
    (seeds / "relative.txt").symlink_to(Path("..") / "secret.txt")
    (seeds / "sub").mkdir()
    (seeds / "sub" / "dotdot.txt").symlink_to(Path("..") / ".." / "private" / "secret2.txt")
    (seeds / "folder").symlink_to(tmp_path / "private", target_is_directory=True)
    (seeds / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (seeds / "inside.txt").symlink_to(seeds / ALIYUN)  # inside: read (a duplicate here)
    report = build(seeds, tmp_path / "ix", fake_embedder)
    reasons = _reasons(report)
    for name in ("absolute.txt", "relative.txt", "dotdot.txt"):
        assert "outside the seeds folder" in reasons[name], reasons
    assert "link to a folder" in reasons["folder"]
    assert "link to nothing" in reasons["dangling.txt"]
    assert "duplicate" in reasons["inside.txt"]
    index = load_index(tmp_path / "ix")
    assert list(index.articles) == [ALIYUN.removesuffix(".txt")]
    assert not any("hunter2" in c.text or "swordfish" in c.text for c in index.chunks)


def test_a_fifo_is_not_read(seeds, tmp_path, fake_embedder):
    os.mkfifo(seeds / "pipe.txt")  # reading it would block the build for good
    report = build(seeds, tmp_path / "ix", fake_embedder)
    assert "not a regular file" in _reasons(report)["pipe.txt"]


def test_a_seeds_folder_that_is_a_link_loop_says_so(tmp_path, fake_embedder):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(SeedsError, match="cannot be resolved") as err:
        build(tmp_path / "loop", tmp_path / "ix", fake_embedder)
    assert "does not exist" not in str(err.value)
    with pytest.raises(SeedsError, match="does not exist"):
        scan_seeds(tmp_path / "missing")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(SeedsError, match="link to nothing"):
        scan_seeds(tmp_path / "dangling")


def test_a_seeds_folder_reached_through_a_link_is_read(seeds, tmp_path, fake_embedder):
    (tmp_path / "via").symlink_to(seeds, target_is_directory=True)
    report = build(tmp_path / "via", tmp_path / "ix", fake_embedder)
    assert report.added == (ALIYUN.removesuffix(".txt"),) and not report.skipped


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain.txt", "plain"),
        ("line\nbreak.txt", "line_break"),
        ("tab\there.txt", "tab_here"),
        ("bell\x07.txt", "bell_"),
        ("spaces are fine.txt", "spaces are fine"),
        ("zero\u200bwidth.txt", "zero_width"),
    ],
)
def test_ids_are_safe_in_a_url(tmp_path, name, expected):
    assert article_id(tmp_path, tmp_path / name) == expected


def test_a_seed_named_with_a_newline_is_reachable(seeds, tmp_path, fake_embedder):
    shutil.move(seeds / ALIYUN, seeds / "alibaba\nspins off.txt")
    shutil.copy(SEEDS / "BeyondTheBitcoinBubble.txt", seeds / "alibaba_spins off.txt")
    report = build(seeds, tmp_path / "ix", fake_embedder)
    assert sorted(report.added) == ["alibaba_spins off", "alibaba_spins off~2"]
    app = create_app(
        {"RERANK": False, "READ": False, "INDEX_DIR": str(tmp_path / "ix")}, embedder=fake_embedder
    )
    client = app.test_client()
    for aid in report.added:
        response = client.get(f"/api/articles/{aid}")
        assert response.status_code == 200 and response.get_json()["id"] == aid
    answer = client.post("/api/ask", json={"question": "Alibaba Aliyun OS invest"}).get_json()
    cited = answer["citations"][0]["article_id"]
    assert client.get(f"/api/articles/{cited}").status_code == 200
