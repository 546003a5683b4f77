"""Saved questions, the answer last kept for each and its changes, in one SQLite file.

The file lives in the index folder beside the generations (`<index>/saved.sqlite3`), so it
survives restarts and rebuilds. Every call opens its own connection: nothing is shared
across threads or across gunicorn's fork, and WAL mode lets the workers read while one writes.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.store import generation_number
from qa.errors import check_question
from qa.query import Filters

SAVED_FILE = "saved.sqlite3"
MAX_SAVED = 200  # saved questions per index folder; each is asked again per generation
MAX_CHANGES = 100  # changes kept per question, newest; older ones are dropped
BUSY_SECONDS = 10.0  # how long a writer waits for another process's write to finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, filters TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kept (
    saved_id TEXT PRIMARY KEY REFERENCES saved(id) ON DELETE CASCADE,
    generation TEXT NOT NULL, exact TEXT, timeline TEXT NOT NULL, answer TEXT NOT NULL,
    checked TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    saved_id TEXT NOT NULL REFERENCES saved(id) ON DELETE CASCADE,
    generation TEXT NOT NULL, claimed TEXT NOT NULL,
    PRIMARY KEY (saved_id, generation)
);
CREATE TABLE IF NOT EXISTS changes (
    id TEXT PRIMARY KEY, saved_id TEXT NOT NULL REFERENCES saved(id) ON DELETE CASCADE,
    generation TEXT NOT NULL, time TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
    UNIQUE (saved_id, generation)
);
CREATE INDEX IF NOT EXISTS changes_newest ON changes (saved_id, time);
"""


class SavedError(Exception):
    """Base class of the errors of saved questions."""


class SavedLimit(SavedError):
    """As many questions are saved as the store holds (MAX_SAVED)."""


class SavedNotFound(SavedError):
    """No saved question has this id."""


class SavedUnavailable(SavedError):
    """The SQLite file cannot be opened or stayed locked past BUSY_SECONDS."""


def now_iso() -> str:
    """Return the time now in UTC as ISO 8601 to the second (RFC 3339, as Atom wants it)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer_key(answer: dict) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Return what a change is: the exact words, and the timeline as (text, date) pairs."""
    exact = answer.get("exact") or {}
    timeline = tuple((d["text"], d["date"]) for d in answer.get("timeline") or ())
    return exact.get("text"), timeline


@dataclass(frozen=True)
class Saved:
    """A question someone follows, with the filters it is asked with."""

    id: str
    question: str
    filters: dict
    created: str

    def to_json(self) -> dict:
        """Return the question as plain JSON types."""
        return {
            "id": self.id,
            "question": self.question,
            "filters": self.filters or None,
            "created": self.created,
        }


@dataclass(frozen=True)
class Kept:
    """The answer a saved question got at its last check."""

    generation: str
    exact: str | None
    answer: dict  # the public answer JSON (qa/answer.py), citations included
    checked: str

    def to_json(self) -> dict:
        """Return the kept answer's summary as plain JSON types."""
        return {"generation": self.generation, "exact": self.exact, "checked": self.checked}


@dataclass(frozen=True)
class Change:
    """A new generation answered a saved question differently: both answers, in full."""

    id: str  # a UUID: the Atom entry is urn:uuid:<id>
    saved_id: str
    question: str
    generation: str
    time: str
    before: dict
    after: dict

    def to_json(self) -> dict:
        """Return the change with both answers (exact, timeline, citations)."""
        return {
            "id": self.id,
            "generation": self.generation,
            "time": self.time,
            "before": self.before,
            "after": self.after,
        }

    def summary(self) -> dict:
        """Return the change in one line's worth: the exact words before and after."""
        return {
            "id": self.id,
            "generation": self.generation,
            "time": self.time,
            "from": answer_key(self.before)[0],
            "to": answer_key(self.after)[0],
        }


def _saved(row: sqlite3.Row) -> Saved:
    return Saved(row["id"], row["question"], json.loads(row["filters"]), row["created"])


def _kept(row: sqlite3.Row) -> Kept:
    return Kept(row["generation"], row["exact"], json.loads(row["answer"]), row["checked"])


def _change(row: sqlite3.Row) -> Change:
    return Change(
        row["id"],
        row["saved_id"],
        row["question"],
        row["generation"],
        row["time"],
        json.loads(row["before"]),
        json.loads(row["after"]),
    )


_CHANGES = (
    "SELECT c.*, s.question FROM changes c JOIN saved s ON s.id = c.saved_id {where} "
    "ORDER BY c.time DESC, c.rowid DESC LIMIT ?"
)


class SavedStore:
    """Saved questions in one SQLite file, safe to share between processes."""

    def __init__(self, path: Path, limit: int = MAX_SAVED) -> None:
        self.path = Path(path)
        self.limit = limit
        self._ready = False

    @classmethod
    def in_index(cls, index_dir: Path, limit: int = MAX_SAVED) -> SavedStore:
        """Return the store of an index folder (beside its generations)."""
        return cls(Path(index_dir) / SAVED_FILE, limit)

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Open a connection; with `write`, hold the write lock for the whole transaction."""
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            raise SavedUnavailable(f"cannot open {self.path}: {err}") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                db.execute("PRAGMA journal_mode = WAL")  # kept in the file: once is enough
                db.executescript(SCHEMA)
                self._ready = True
            # IMMEDIATE takes the write lock up front: a read-then-write never deadlocks.
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield db
            db.execute("COMMIT")
        except sqlite3.OperationalError as err:  # locked past the timeout, disk full, ...
            raise SavedUnavailable(f"saved questions ({self.path}): {err}") from None
        finally:
            if db.in_transaction:
                db.rollback()
            db.close()

    def add(self, question: object, filters: object = None) -> Saved:
        """Save a question; raise BadQuestion if it or its filters are bad, SavedLimit if full."""
        question = check_question(question)
        Filters.from_json(filters)  # raises BadQuestion naming what is wrong
        kept = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        saved = Saved(secrets.token_urlsafe(16), question, kept, now_iso())
        with self._db(write=True) as db:
            (count,) = db.execute("SELECT count(*) FROM saved").fetchone()
            if count >= self.limit:
                raise SavedLimit(
                    f"{count} questions are saved, the most this server keeps; remove one first"
                )
            db.execute(
                "INSERT INTO saved (id, question, filters, created) VALUES (?, ?, ?, ?)",
                (saved.id, saved.question, json.dumps(kept), saved.created),
            )
        return saved

    def get(self, saved_id: str) -> Saved:
        """Return one saved question; raise SavedNotFound if there is none with this id."""
        with self._db() as db:
            row = db.execute("SELECT * FROM saved WHERE id = ?", (saved_id,)).fetchone()
        if row is None:
            raise SavedNotFound(f"no saved question with id {saved_id!r}")
        return _saved(row)

    def all(self) -> list[Saved]:
        """Return every saved question, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM saved ORDER BY created, rowid").fetchall()
        return [_saved(row) for row in rows]

    def remove(self, saved_id: str) -> None:
        """Delete a saved question with its answer and changes; raise SavedNotFound."""
        with self._db(write=True) as db:
            if not db.execute("DELETE FROM saved WHERE id = ?", (saved_id,)).rowcount:
                raise SavedNotFound(f"no saved question with id {saved_id!r}")

    def kept(self, saved_id: str) -> Kept | None:
        """Return the answer kept at the last check (None before the first)."""
        with self._db() as db:
            row = db.execute("SELECT * FROM kept WHERE saved_id = ?", (saved_id,)).fetchone()
        return None if row is None else _kept(row)

    def kept_all(self) -> dict[str, Kept]:
        """Return every question's kept answer, by saved id."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM kept").fetchall()
        return {row["saved_id"]: _kept(row) for row in rows}

    def claim(self, saved_id: str, generation: str) -> bool:
        """Return True if this caller is the one to check the question at this generation.

        Every worker sees a new generation; the first to claim it asks, the others skip. Claims
        of the question's other generations are dropped: only the newest one matters.
        """
        with self._db(write=True) as db:
            db.execute(
                "DELETE FROM claims WHERE saved_id = ? AND generation != ?",
                (saved_id, generation),
            )
            try:
                return bool(
                    db.execute(
                        "INSERT OR IGNORE INTO claims (saved_id, generation, claimed) "
                        "VALUES (?, ?, ?)",
                        (saved_id, generation, now_iso()),
                    ).rowcount
                )
            except sqlite3.IntegrityError:  # removed meanwhile (foreign key): nothing to do
                return False

    def release(self, saved_id: str, generation: str) -> None:
        """Give a claim back (the check failed), so a later check may try again."""
        with self._db(write=True) as db:
            db.execute(
                "DELETE FROM claims WHERE saved_id = ? AND generation = ?", (saved_id, generation)
            )

    def record(self, saved_id: str, generation: str, answer: dict) -> tuple[str, Kept | None]:
        """Keep a generation's answer; record a change if its exact words or timeline differ.

        Return the status ("baseline", "unchanged", "changed", "skipped": this generation was
        recorded already, "removed") and the answer kept before. One transaction: a change is
        recorded once per question and generation, however many workers get here.
        """
        exact, timeline = answer_key(answer)
        with self._db(write=True) as db:
            if db.execute("SELECT 1 FROM saved WHERE id = ?", (saved_id,)).fetchone() is None:
                return "removed", None
            row = db.execute("SELECT * FROM kept WHERE saved_id = ?", (saved_id,)).fetchone()
            before = None
            if row is not None:
                before = _kept(row)
                if _not_newer(generation, before.generation):
                    return "skipped", before  # checked already, or a slower worker's old one
            status = "baseline"
            if before is not None:
                changed = answer_key(before.answer) != (exact, timeline)
                status = "changed" if changed else "unchanged"
            if status == "changed":
                self._insert_change(db, saved_id, generation, before.answer, answer)
            db.execute(
                "INSERT OR REPLACE INTO kept (saved_id, generation, exact, timeline, answer, "
                "checked) VALUES (?, ?, ?, ?, ?, ?)",
                (saved_id, generation, exact, json.dumps(timeline), json.dumps(answer), now_iso()),
            )
        return status, before

    @staticmethod
    def _insert_change(
        db: sqlite3.Connection, saved_id: str, generation: str, before: dict, after: dict
    ) -> None:
        db.execute(
            "INSERT OR IGNORE INTO changes (id, saved_id, generation, time, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                str(uuid.uuid4()),
                saved_id,
                generation,
                now_iso(),
                json.dumps(before),
                json.dumps(after),
            ),
        )
        db.execute(
            "DELETE FROM changes WHERE saved_id = ? AND id NOT IN (SELECT id FROM changes "
            "WHERE saved_id = ? ORDER BY time DESC, rowid DESC LIMIT ?)",
            (saved_id, saved_id, MAX_CHANGES),
        )

    def changes(self, saved_id: str | None = None, limit: int = MAX_CHANGES) -> list[Change]:
        """Return the changes of one question (or of all), newest first."""
        where, args = ("WHERE c.saved_id = ?", (saved_id,)) if saved_id else ("", ())
        with self._db() as db:
            rows = db.execute(_CHANGES.format(where=where), (*args, limit)).fetchall()
        return [_change(row) for row in rows]

    def latest(self) -> dict[str, Change]:
        """Return each question's newest change, by saved id."""
        query = (
            "SELECT c.*, s.question FROM changes c JOIN saved s ON s.id = c.saved_id "
            "WHERE c.rowid = (SELECT rowid FROM changes WHERE saved_id = c.saved_id "
            "ORDER BY time DESC, rowid DESC LIMIT 1)"
        )
        with self._db() as db:
            return {row["saved_id"]: _change(row) for row in db.execute(query).fetchall()}


def _not_newer(generation: str, kept: str) -> bool:
    """Return whether a generation is the kept one or older (never go back to an old answer)."""
    new, old = generation_number(generation), generation_number(kept)
    if new is None or old is None:
        return generation == kept
    return new <= old
