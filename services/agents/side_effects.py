"""The reference agents' side effects, in a real local SQLite store, so compensations are visible.

Research notes and drafts are kept until discarded; published articles until unpublished; review
comments until retracted. Nothing is deleted: an undo marks the row (`discarded_at`,
`status = 'unpublished'`, `retracted_at`), so `sqlite3 .agentbus/side_effects.db` shows both what
was done and what was undone. Rows are keyed by saga id (the task id outside a saga), so a retried
step overwrites its own earlier attempt instead of doing the work twice.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS notes (
    saga_key     TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    notes        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    discarded_at REAL
);
CREATE TABLE IF NOT EXISTS drafts (
    saga_key     TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    draft        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    discarded_at REAL
);
CREATE TABLE IF NOT EXISTS articles (
    saga_key       TEXT PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    url            TEXT NOT NULL,
    status         TEXT NOT NULL,
    published_at   REAL NOT NULL,
    unpublished_at REAL
);
CREATE TABLE IF NOT EXISTS review_comments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    saga_key     TEXT NOT NULL,
    reviewer     TEXT NOT NULL,
    severity     TEXT NOT NULL,
    body         TEXT NOT NULL,
    posted_at    REAL NOT NULL,
    retracted_at REAL
);
CREATE INDEX IF NOT EXISTS review_comments_by_saga ON review_comments (saga_key, reviewer);
"""

SITE: Final = "https://blog.example.com"


class SideEffectSettings(BaseSettings):
    """Where the reference agents keep their side effects (AGENTBUS_SIDE_EFFECTS_DB)."""

    model_config = SettingsConfigDict(env_prefix="AGENTBUS_", extra="ignore")

    side_effects_db: Path = Field(
        Path(".agentbus/side_effects.db"),
        description="SQLite file of published articles, review comments, notes and drafts.")


@dataclass(frozen=True)
class Article:
    """A published (or unpublished) article."""

    saga_key: str
    slug: str
    title: str
    url: str
    status: str


def slugify(text: str, limit: int = 60) -> str:
    """A URL slug: lower case words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "article"


class SideEffectStore:
    """Short synchronous transactions on one SQLite file (WAL), shared by every agent process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def from_env(cls) -> SideEffectStore:
        """The store AGENTBUS_SIDE_EFFECTS_DB names (default .agentbus/side_effects.db)."""
        return cls(SideEffectSettings().side_effects_db)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.executescript(SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    # ------------------------------------------------------------ researcher, writer

    def save_notes(self, key: str, topic: str, notes: Sequence[str]) -> None:
        """Keep research notes for a saga (a retry replaces them)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO notes (saga_key, topic, notes, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (saga_key) DO UPDATE SET topic = excluded.topic, notes = excluded.notes, "
                "created_at = excluded.created_at, discarded_at = NULL",
                (key, topic, json.dumps(list(notes)), time.time()))

    def discard_notes(self, key: str) -> bool:
        """Mark a saga's notes discarded; False when there were none left to discard."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE notes SET discarded_at = ? WHERE saga_key = ? AND discarded_at IS NULL",
                (time.time(), key))
            return cursor.rowcount > 0

    def save_draft(self, key: str, title: str, draft: str) -> None:
        """Keep a saga's draft (a retry replaces it)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO drafts (saga_key, title, draft, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (saga_key) DO UPDATE SET title = excluded.title, draft = excluded.draft, "
                "created_at = excluded.created_at, discarded_at = NULL",
                (key, title, draft, time.time()))

    def discard_draft(self, key: str) -> bool:
        """Mark a saga's draft discarded; False when there was none left to discard."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE drafts SET discarded_at = ? WHERE saga_key = ? AND discarded_at IS NULL",
                (time.time(), key))
            return cursor.rowcount > 0

    # ------------------------------------------------------------ publisher

    def publish(self, key: str, title: str, body: str) -> Article:
        """Publish a saga's article (again, if a retry or a re-run asks); the slug is unique per saga."""
        slug = f"{slugify(title)}-{slugify(key, 8)}"
        url = f"{SITE}/{slug}"
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO articles (saga_key, slug, title, body, url, status, published_at) "
                "VALUES (?, ?, ?, ?, ?, 'published', ?) ON CONFLICT (saga_key) DO UPDATE SET "
                "slug = excluded.slug, title = excluded.title, body = excluded.body, "
                "url = excluded.url, status = 'published', published_at = excluded.published_at, "
                "unpublished_at = NULL",
                (key, slug, title, body, url, time.time()))
        return Article(key, slug, title, url, "published")

    def unpublish(self, key: str) -> Article | None:
        """Take a saga's article down; None when it was never published."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE articles SET status = 'unpublished', unpublished_at = ? "
                "WHERE saga_key = ? AND status = 'published'", (time.time(), key))
            row = conn.execute("SELECT slug, title, url, status FROM articles WHERE saga_key = ?",
                               (key,)).fetchone()
        return None if row is None else Article(key, row[0], row[1], row[2], row[3])

    def article(self, key: str) -> Article | None:
        """A saga's article, whatever its status."""
        with self._tx() as conn:
            row = conn.execute("SELECT slug, title, url, status FROM articles WHERE saga_key = ?",
                               (key,)).fetchone()
        return None if row is None else Article(key, row[0], row[1], row[2], row[3])

    # ------------------------------------------------------------ reviewers

    def post_comments(self, key: str, reviewer: str, comments: Sequence[tuple[str, str]]) -> int:
        """Post a reviewer's (severity, body) comments on a change; replaces its earlier ones."""
        now = time.time()
        with self._tx() as conn:
            conn.execute("DELETE FROM review_comments WHERE saga_key = ? AND reviewer = ? "
                         "AND retracted_at IS NULL", (key, reviewer))
            conn.executemany(
                "INSERT INTO review_comments (saga_key, reviewer, severity, body, posted_at) "
                "VALUES (?, ?, ?, ?, ?)", [(key, reviewer, s, b, now) for s, b in comments])
        return len(comments)

    def retract_comments(self, key: str, reviewer: str) -> int:
        """Retract a reviewer's visible comments on a change; returns how many."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE review_comments SET retracted_at = ? WHERE saga_key = ? AND reviewer = ? "
                "AND retracted_at IS NULL", (time.time(), key, reviewer))
            return int(cursor.rowcount)

    def visible_comments(self, key: str, reviewer: str | None = None) -> list[dict[str, Any]]:
        """The comments on a change that are not retracted."""
        query = ("SELECT reviewer, severity, body FROM review_comments WHERE saga_key = ? "
                 "AND retracted_at IS NULL")
        args: tuple[str, ...] = (key,)
        if reviewer is not None:
            query += " AND reviewer = ?"
            args = (key, reviewer)
        with self._tx() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [{"reviewer": r, "severity": s, "body": b} for r, s, b in rows]

    # ------------------------------------------------------------ reading it back

    def summary(self, key: str) -> dict[str, str]:
        """What a saga left behind, one word per kind of effect (for the demo and tests)."""
        with self._tx() as conn:
            notes = conn.execute("SELECT discarded_at FROM notes WHERE saga_key = ?", (key,)).fetchone()
            draft = conn.execute("SELECT discarded_at FROM drafts WHERE saga_key = ?", (key,)).fetchone()
            article = conn.execute("SELECT status, url FROM articles WHERE saga_key = ?",
                                   (key,)).fetchone()
            comments = conn.execute(
                "SELECT count(*), count(retracted_at) FROM review_comments WHERE saga_key = ?",
                (key,)).fetchone()
        out: dict[str, str] = {}
        if notes is not None:
            out["notes"] = "discarded" if notes[0] is not None else "kept"
        if draft is not None:
            out["draft"] = "discarded" if draft[0] is not None else "kept"
        if article is not None:
            out["article"] = f"{article[0]} ({article[1]})"
        if comments and comments[0]:
            out["review_comments"] = f"{comments[0] - comments[1]} visible, {comments[1]} retracted"
        return out
