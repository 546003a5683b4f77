"""One settings module: every NEWSQA_* variable is read there, typed, and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.settings import Settings, SettingsError, table

REPO = Path(__file__).resolve().parent.parent


def test_variables_are_typed_and_round_trip():
    env = {
        "NEWSQA_INDEX": "/srv/ix",
        "NEWSQA_RERANK": "0",
        "NEWSQA_THREADS": "3",
        "NEWSQA_STORE": "Milvus",
        "NEWSQA_MILVUS_URI": "http://milvus:19530",
    }
    settings = Settings.from_env(env)
    assert settings.index_dir == Path("/srv/ix") and settings.rerank is False
    assert settings.threads == 3 and settings.store == "milvus"
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env({}) == Settings()  # nothing set: the documented defaults


@pytest.mark.parametrize(
    ("name", "value"),
    [("NEWSQA_STORE", "pinecone"), ("NEWSQA_EMBEDDER", "gpu"), ("NEWSQA_THREADS", "many")],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_only_the_settings_module_reads_the_environment():
    readers = [
        str(path.relative_to(REPO))
        for folder in ("index", "qa", "web")
        for path in (REPO / folder).rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|envvar=", path.read_text(encoding="utf-8"))
    ]
    assert readers == ["index/settings.py"]


def test_every_variable_is_in_the_configuration_doc():
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [v for v, _, _ in table() if f"`{v}`" not in doc] == []
