"""The ownership matrix (``ownership.yaml``): gitignore-style patterns, the last match wins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from squad.atomic import write_atomic
from squad.config import Access
from squad.errors import SquadError
from squad.paths import RESOURCE_RE
from squad.protocol.ids import parse_agent_id

if TYPE_CHECKING:
    import pathspec

ACCESS_ALIASES = {
    "EXCLUSIVE": Access.EXCLUSIVE,
    "SEQUENTIAL": Access.SEQUENTIAL,
    "PARTITIONED": Access.SEQUENTIAL,
    "SHARED": Access.SEQUENTIAL,
    "READONLY": Access.READONLY,
    "READ-ONLY": Access.READONLY,
    "READ_ONLY": Access.READONLY,
}


def parse_access(text: str, *, path: Path | str | None = None, line: int | None = None) -> str:
    access = ACCESS_ALIASES.get(text.strip().upper().replace(" ", "_"))
    if access is None:
        raise SquadError(
            f"unknown access mode {text!r}: use EXCLUSIVE, SEQUENTIAL or READONLY",
            path=path,
            line=line,
        )
    return access


@dataclass(frozen=True)
class Entry:
    pattern: str
    owner: str | None
    access: str
    resource: str | None = None
    line: int | None = None
    # SEQUENTIAL between these agents only (a path several plans write); empty: anyone holding the lease.
    owners: tuple[str, ...] = ()
    # Where the rule comes from, for people asking why a write is refused:
    # ``.squad/ownership.yaml:3`` or ``.squad/parallel-plans/agent-2-plan.md:14`` (several joined by ", ").
    source: str | None = None


@dataclass(frozen=True)
class Rule:
    """What the matrix says about one path: the winning entry, or the default."""

    path: str
    access: str
    owner: str | None = None
    resource: str | None = None
    pattern: str | None = None
    owners: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class Matrix:
    entries: tuple[Entry, ...] = ()
    default_access: str = Access.SEQUENTIAL
    # Files left out while building it (a malformed plan, when the matrix comes from the plans).
    problems: tuple[SquadError, ...] = ()

    @cached_property
    def _spec(self) -> pathspec.PathSpec[Any]:
        """Every pattern in one matcher: a lookup normalises the path once and answers with the last
        matching pattern, however many entries there are."""
        import pathspec

        return pathspec.PathSpec.from_lines("gitignore", [_pattern(e.pattern) for e in self.entries])

    def _last_match(self, candidate: str) -> int | None:
        found = self._spec.check_file(candidate)
        return found.index if found.include else None

    def rule(self, path: str) -> Rule:
        """The last entry matching ``path`` (repo-relative), as in CODEOWNERS."""
        candidate = path.lstrip("/")
        index = self._last_match(candidate) if self.entries else None
        if self.entries and candidate.endswith("/"):  # a folder: its entry may be written either way
            bare = self._last_match(candidate.rstrip("/"))
            if bare is not None and (index is None or bare > index):
                index = bare
        if index is None:
            return Rule(path, self.default_access)
        entry = self.entries[index]
        return Rule(path, entry.access, entry.owner, entry.resource, entry.pattern, entry.owners, entry.source)

    def owned_by(self, agent: str) -> list[Entry]:
        from squad.protocol.ids import same_agent

        return [e for e in self.entries if same_agent(e.owner, agent)]

    def with_entries(self, entries: Iterable[Entry]) -> Matrix:
        return Matrix(tuple(entries), self.default_access, self.problems)


def _pattern(key: str) -> str:
    # ownership keys are relative to the repository root, like CODEOWNERS: anchor them.
    return key if key.startswith("/") else "/" + key


def parse_matrix(text: str, path: Path, default_access: str = Access.SEQUENTIAL) -> Matrix:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise SquadError("bad YAML: nested too deeply", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SquadError(
            f"bad YAML: {getattr(exc, 'problem', None) or exc}",
            path=path,
            line=mark.line + 1 if mark else None,
        ) from None
    if root is None:
        return Matrix((), default_access)
    if not isinstance(root, yaml.MappingNode):
        raise SquadError("expected a mapping of path patterns", path=path, line=root.start_mark.line + 1)
    entries = []
    loader = yaml.SafeLoader("")
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise SquadError("a pattern must be a plain string such as frontend/", path=path, line=line)
        pattern = str(key_node.value).strip()
        try:
            value: Any = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, RecursionError) as exc:  # an unknown tag (!!python/...), nesting too deep
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise SquadError(f"bad entry {pattern!r}: {problem}", path=path, line=line) from None
        if isinstance(value, str):
            value = {"access": value}
        if not isinstance(value, dict):
            raise SquadError(
                f"entry {pattern!r} must be a mapping such as {{owner: agent-1, access: EXCLUSIVE}}",
                path=path,
                line=line,
            )
        access = parse_access(
            str(value.get("access", Access.EXCLUSIVE if value.get("owner") else default_access)),
            path=path,
            line=line,
        )
        owner = value.get("owner")
        if owner is not None and (not isinstance(owner, str) or parse_agent_id(owner) is None):
            raise SquadError(
                f"owner {owner!r} of {pattern!r} is not an agent id (agent-<n>-<role>)", path=path, line=line
            )
        if access == Access.EXCLUSIVE and not owner:
            raise SquadError(f"{pattern!r} is EXCLUSIVE but names no owner", path=path, line=line)
        resource = value.get("resource")
        if resource is not None and (
            not isinstance(resource, str) or not RESOURCE_RE.match("@" + resource.lstrip("@"))
        ):
            raise SquadError(
                f"resource {resource!r} of {pattern!r} is not a name such as @db-migrations", path=path, line=line
            )
        entries.append(Entry(pattern, owner, access, resource, line))
    return Matrix(tuple(entries), default_access)


def load_matrix(path: Path, default_access: str = Access.SEQUENTIAL) -> Matrix:
    """The matrix at ``path`` (empty when there is none); a malformed one is a SquadError naming it,
    never an empty matrix: no rules would mean no enforcement."""
    from squad.protocol.textfile import read_text

    try:
        text = read_text(path)
    except FileNotFoundError:
        return Matrix((), default_access)
    return parse_matrix(text, path, default_access)


def render_matrix(matrix: Matrix) -> str:
    import json

    lines = [
        "# Ownership matrix: gitignore-style patterns; the last matching pattern wins.",
        "# access: EXCLUSIVE (owner only), SEQUENTIAL (anyone holding the lease), READONLY.",
    ]
    keys = [
        json.dumps(e.pattern) if any(c in e.pattern for c in "*{}[]#&!|>'\"%@`,?:") else e.pattern
        for e in matrix.entries
    ]
    width = max((len(k) for k in keys), default=0) + 2
    for key, e in zip(keys, matrix.entries, strict=True):
        owner = e.owner if e.owner else "null"
        fields = f"owner: {owner}, access: {e.access}"
        if e.resource:
            fields += f", resource: {json.dumps(e.resource)}"
        lines.append(f"{(key + ':').ljust(width)}{{{fields}}}")
    return "\n".join(lines) + "\n"


def write_matrix(path: Path, matrix: Matrix) -> None:
    write_atomic(path, render_matrix(matrix))
