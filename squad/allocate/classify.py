"""Streams of work (frontend, backend, ...): their folders, and keyword rules that sort tasks into them.

Defaults below; ``config.yaml`` may override or add streams::

    streams:
      mobile: {folders: [mobile/], keywords: [ios, android, swift]}
      frontend: {folders: [web/]}            # replaces the default folders, keeps the keywords
      backend: {extra_keywords: [graphql]}   # adds keywords to the defaults
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from squad.errors import SquadError


@dataclass(frozen=True)
class Stream:
    name: str
    folders: tuple[str, ...]
    keywords: tuple[str, ...]
    aliases: tuple[str, ...] = ()


def _stream(name: str, folders: str, keywords: str, aliases: str) -> Stream:
    def split(text: str) -> tuple[str, ...]:
        return tuple(w.strip() for w in text.split(",") if w.strip())

    return Stream(name, split(folders), split(keywords), split(aliases))


# fmt: off
DEFAULT_STREAMS: tuple[Stream, ...] = (
    _stream(
        "frontend",
        "frontend/",
        "frontend, ui, ux, react, vue, svelte, angular, component, components, page, pages, layout, css, scss, tailwind, style, styles, responsive, chart, charts, dashboard, hook, hooks, button, form, modal, widget, card, cards, tsx, jsx, browser, client, view, screen",
        "front-end, front end, ui, web, client",
    ),
    _stream(
        "backend",
        "backend/",
        "backend, api, apis, rest, endpoint, endpoints, server, route, routes, handler, handlers, controller, middleware, auth, authentication, graphql, export, websocket, service, http, request, webhook",
        "back-end, back end, api, server",
    ),
    _stream(
        "ml",
        "ml/",
        "ml, machine learning, model, models, anomaly, anomalies, prediction, predict, forecast, trend, trends, training, train, inference, insights, classifier, embedding, embeddings, llm, detection, scoring",
        "machine learning, ai, data science, ml/ai",
    ),
    _stream(
        "database",
        "db/",
        "database, db, schema, migration, migrations, sql, table, tables, index, indexes, postgres, postgresql, mysql, sqlite, orm, query, queries, seed",
        "db, persistence, storage",
    ),
    _stream(
        "tests",
        "tests/",
        "test, tests, testing, e2e, pytest, jest, coverage, qa, integration test, unit test",
        "testing, qa, quality",
    ),
    _stream(
        "docs",
        "docs/",
        "docs, documentation, readme, guide, tutorial, changelog, docstring, adr",
        "documentation",
    ),
    _stream(
        "infra",
        "infra/",
        "infra, infrastructure, docker, dockerfile, kubernetes, k8s, terraform, ci, cd, pipeline, deploy, deployment, helm, monitoring, nginx, github actions",
        "devops, ops, platform, deployment",
    ),
)
# fmt: on

# Paths no one agent may own: shared types, package manifests, lock files, root configuration.
_SHARED_NAMES = {
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "bun.lockb",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.py",
    "setup.cfg",
    "Cargo.toml",
    "Cargo.lock",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "tsconfig.json",
    "docker-compose.yml",
    "docker-compose.yaml",
    "Makefile",
    ".env",
    ".env.example",
    ".gitignore",
    ".editorconfig",
    ".eslintrc",
    ".eslintrc.js",
    ".eslintrc.json",
    ".prettierrc",
}
_SHARED_DIRS = {"shared", "common", "types", "typings", "contracts", "proto", "protos", "schemas-shared"}
_SHARED_NAME_RE = re.compile(r"^(requirements[\w.-]*\.txt|[\w.-]+\.config\.[cm]?[jt]s|\.[\w.-]+rc(\.\w+)?)$")

_RESOURCE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("@db-migrations", re.compile(r"\b(migrations?|migrate|alembic|flyway)\b", re.IGNORECASE)),
    (
        "@package-install",
        re.compile(
            r"\b(install|installs|installing|npm i|pip install|add dependenc(y|ies)|upgrade dependencies)\b",
            re.IGNORECASE,
        ),
    ),
    ("@git", re.compile(r"\b(git|rebase|merge branch|tag the release|cherry-pick)\b", re.IGNORECASE)),
    ("@deploy", re.compile(r"\b(deploy|deploys|deploying|deployment|release to|ship to production)\b", re.IGNORECASE)),
)


# Keywords that are everyday words too: a hit counts half.
_GENERIC_KEYWORDS = {
    "table", "tables", "index", "indexes", "query", "queries", "seed", "page", "pages", "view", "screen", "form",
    "card", "cards", "style", "styles", "client", "button", "service", "request", "export", "handler", "handlers",
    "model", "models", "trend", "trends", "train", "training", "guide", "pipeline", "test", "tests",
}  # fmt: skip


def is_shared_path(path: str) -> bool:
    """Shared types, package manifests, lock files and root config: SEQUENTIAL for everyone."""
    parts = path.rstrip("/").split("/")
    name = parts[-1]
    if name in _SHARED_NAMES or _SHARED_NAME_RE.match(name):
        return True
    return any(part in _SHARED_DIRS for part in parts[:-1]) or (path.endswith("/") and name in _SHARED_DIRS)


def resource_for(text: str) -> str | None:
    for resource, pattern in _RESOURCE_RULES:
        if pattern.search(text):
            return resource
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30].strip("-")


def _as_tuple(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SquadError(f"streams: {what} must be a list of strings", path=".squad/config.yaml")
    return tuple(value)


def _folder(text: str, stream: str) -> str:
    text = text.strip().lstrip("/")
    if not text or ".." in text.split("/") or text.startswith("~"):
        raise SquadError(
            f"streams: {stream}: folder {text!r} is not a folder inside the repository", path=".squad/config.yaml"
        )
    return text if text.endswith("/") or "." in text.rsplit("/", 1)[-1] else text + "/"


def load_streams(section: Mapping[str, Any]) -> tuple[Stream, ...]:
    """The default streams with the config's ``streams:`` section applied (override or add)."""
    streams = {s.name: s for s in DEFAULT_STREAMS}
    for raw_name, raw in section.items():
        name = _slug(str(raw_name))
        if not name:
            continue
        spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {"keywords": raw}
        base = streams.get(name, Stream(name, (f"{name}/",), (name,)))
        folders = _as_tuple(spec.get("folders"), "folders") or base.folders
        keywords = _as_tuple(spec.get("keywords"), "keywords") or base.keywords
        keywords += _as_tuple(spec.get("extra_keywords"), "extra_keywords")
        aliases = _as_tuple(spec.get("aliases"), "aliases") or base.aliases
        streams[name] = Stream(
            name, tuple(_folder(f, name) for f in folders), tuple(k.lower() for k in keywords), aliases
        )
    return tuple(streams.values())


class Classifier:
    """Sorts tasks into streams: tag, then heading, then paths, then keywords."""

    def __init__(self, streams: Iterable[Stream]):
        self.streams: dict[str, Stream] = {s.name: s for s in streams}
        self._patterns = {
            s.name: re.compile(
                r"\b(" + "|".join(re.escape(k) for k in sorted(s.keywords, key=len, reverse=True)) + r")\b",
                re.IGNORECASE,
            )
            for s in self.streams.values()
            if s.keywords
        }

    def named(self, text: str | None) -> str | None:
        """The stream a tag or heading names ("Frontend", "ML / AI stream", "Backend (Agent 2)")."""
        if not text:
            return None
        lowered = " " + re.sub(r"[^a-z0-9/-]+", " ", text.lower()) + " "
        for stream in self.streams.values():
            for word in (stream.name, *stream.aliases):
                if f" {word} " in lowered or lowered.strip() == word:
                    return stream.name
        return None

    def add(self, stream: Stream) -> None:
        """A stream a format reader found where the work lands (its folders; no keywords of its own)."""
        self.streams[stream.name] = stream
        if stream.keywords:
            self._patterns[stream.name] = re.compile(
                r"\b(" + "|".join(re.escape(k) for k in sorted(stream.keywords, key=len, reverse=True)) + r")\b",
                re.IGNORECASE,
            )

    def ensure(self, name: str) -> str:
        """A stream named by a tag or heading the defaults do not know: it gets a folder of its name."""
        if name in self.streams:
            return name
        known = self.named(name)
        if known is not None:
            return known
        slug = _slug(re.sub(r"\b(stream|tasks?|agent \d+|team|work)\b", " ", name, flags=re.IGNORECASE)) or _slug(name)
        if slug not in self.streams:
            self.streams[slug] = Stream(slug, (f"{slug}/",), (slug,))
            self._patterns[slug] = re.compile(rf"\b{re.escape(slug)}\b", re.IGNORECASE)
        return slug

    def by_path(self, paths: Iterable[str]) -> str | None:
        for path in paths:
            best: tuple[int, str] | None = None
            for stream in self.streams.values():
                for folder in stream.folders:
                    inside = path.startswith(folder) or path == folder.rstrip("/")
                    if inside and (best is None or len(folder) > best[0]):
                        best = (len(folder), stream.name)
            if best is not None:
                return best[1]
        return None

    def by_keywords(self, text: str) -> str | None:
        """The stream whose keywords the text hits most; everyday words ("table", "page", "model")
        count half, so "sort the dashboard table" is frontend, not database."""
        best: tuple[float, str] | None = None
        for name, pattern in self._patterns.items():
            score = sum(0.5 if hit.lower() in _GENERIC_KEYWORDS else 1.0 for hit in pattern.findall(text))
            if score and (best is None or score > best[0]):
                best = (score, name)
        return best[1] if best else None
