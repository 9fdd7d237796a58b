"""Plan files: YAML front matter for machines, a markdown body for the agent reading it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from squad.atomic import write_atomic
from squad.errors import SquadError
from squad.paths import strip_path
from squad.protocol.ids import AgentId, parse_agent_id

_ESTIMATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?\s*$", re.IGNORECASE)
HOURS_PER_DAY = 8.0


def estimate_hours(text: str | float | int | None) -> float | None:
    """``2h`` -> 2.0, ``30m`` -> 0.5, ``3d`` -> 24.0 (8-hour days); a bare number is hours."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    match = _ESTIMATE_RE.match(text)
    if not match:
        return None
    value = float(match.group(1))
    unit = (match.group(2) or "h").lower()
    if unit.startswith("m"):
        return value / 60
    if unit.startswith("d"):
        return value * HOURS_PER_DAY
    return value


@dataclass(frozen=True)
class PlanTask:
    id: str
    title: str
    files: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    estimate: str | None = None
    resource: str | None = None
    unclassified: bool = False
    subtasks: tuple[str, ...] = ()

    @property
    def estimate_h(self) -> float:
        return estimate_hours(self.estimate) or 1.0

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.files:
            out["files"] = list(self.files)
        out["depends_on"] = list(self.depends_on)
        if self.estimate:
            out["estimate"] = self.estimate
        if self.resource:
            out["resource"] = self.resource
        if self.unclassified:
            out["unclassified"] = True
        if self.subtasks:
            out["subtasks"] = list(self.subtasks)
        return out


@dataclass(frozen=True)
class Handoff:
    task: str
    agent: str  # the other side: `from` for handoffs_in, `to` for handoffs_out
    file: str | None = None


@dataclass(frozen=True)
class Plan:
    agent: str
    role: str | None = None
    owns: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()  # squad's meaning: nobody writes these during the run (READONLY)
    tasks: tuple[PlanTask, ...] = ()
    handoffs_in: tuple[Handoff, ...] = ()
    handoffs_out: tuple[Handoff, ...] = ()
    body: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # What this agent reads (ai-agent-hub's READ-ONLY section): it constrains nobody.
    reads: tuple[str, ...] = ()
    # ("owns" | "shared" | "read_only" | "reads", path) -> the line of the plan file naming it.
    lines: dict[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, kind: str, path: str) -> int | None:
        """The line of the plan file that puts ``path`` in ``kind`` (``owns``, ``shared``, ...), if known."""
        return self.lines.get((kind, path))

    @property
    def agent_id(self) -> AgentId:
        parsed = parse_agent_id(self.agent)
        assert parsed is not None  # checked when read
        return parsed

    def with_tasks(self, tasks: tuple[PlanTask, ...]) -> Plan:
        return replace(self, tasks=tasks)

    def front_matter(self) -> dict[str, Any]:
        data: dict[str, Any] = {"agent": self.agent}
        if self.role:
            data["role"] = self.role
        data["owns"] = list(self.owns)
        data["shared"] = list(self.shared)
        if self.read_only:
            data["read_only"] = list(self.read_only)
        if self.reads:
            data["reads"] = list(self.reads)
        data["tasks"] = [t.to_yaml() for t in self.tasks]
        data["handoffs_in"] = [_handoff_yaml(h, "from") for h in self.handoffs_in]
        if self.handoffs_out:
            data["handoffs_out"] = [_handoff_yaml(h, "to") for h in self.handoffs_out]
        data.update(self.extra)
        return data


def _handoff_yaml(h: Handoff, side: str) -> dict[str, str]:
    out = {"task": h.task, side: h.agent}
    if h.file:
        out["file"] = h.file
    return out


def render_plan(plan: Plan) -> str:
    import yaml

    # libyaml's dumper when PyYAML has it: the same bytes, three times faster (allocate writes many plans)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    front = yaml.dump(
        plan.front_matter(), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    body = plan.body if plan.body.endswith("\n") or not plan.body else plan.body + "\n"
    return f"---\n{front}---\n{body}"


def write_plan(path: Path, plan: Plan) -> None:
    write_atomic(path, render_plan(plan))


def _str_list(value: Any, what: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SquadError(f"{what} must be a list", path=path)
    return tuple(strip_path(str(v)) if what != "depends_on" else str(v) for v in value)


def parse_plan(text: str, path: Path) -> Plan:
    import frontmatter
    import yaml

    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the opening ---
        raise SquadError(f"bad front matter: {getattr(exc, 'problem', None) or exc}", path=path, line=line) from None
    except (ValueError, TypeError, RecursionError) as exc:
        # JSON front matter that is no JSON, keys that are no strings, nesting too deep to read
        raise SquadError(f"bad front matter: {exc}", path=path, line=1) from None
    meta = dict(post.metadata)
    from squad.protocol.plan_body import read_body

    lines = {(key, strip_path(str(v))): n for key in _PATH_KEYS for v, n in _front_lines(text, key, meta.get(key))}
    # A plan with no front matter (ai-agent-hub's plain markdown) is read from its sections.
    body = read_body(str(post.content)) if not {"agent", "owns", "tasks"} <= meta.keys() else None
    if body is not None:
        offset = _body_offset(text, str(post.content))
        for key, value in (("agent", body.agent), ("role", body.role), ("owns", body.owns), ("shared", body.shared),
                           ("reads", body.reads)):  # fmt: skip
            if key not in meta and value:
                meta[key] = value
                lines.update({(k, p): offset + n for (k, p), n in body.lines.items() if k == key})
        if "tasks" not in meta and body.tasks:
            meta["tasks"] = [{"id": i, "title": t, "estimate": e, "depends_on": list(d)} for i, t, e, d in body.tasks]
    agent = meta.pop("agent", None) or meta.pop("agent_id", None)
    if agent is None:
        number = re.search(r"agent-(\d+)", path.name)
        if number is None:
            raise SquadError("plan has no `agent:` in its front matter", path=path, line=1)
        agent = f"agent-{number.group(1)}"
    if parse_agent_id(str(agent)) is None:
        raise SquadError(f"bad agent id {agent!r}", path=path, line=_line_of(text, "agent"))
    tasks: list[PlanTask] = []
    raw_tasks: Any = meta.pop("tasks", None) or []
    if not isinstance(raw_tasks, list):
        raise SquadError("`tasks` must be a list", path=path, line=_line_of(text, "tasks"))
    for item in raw_tasks:
        raw: Any = {"id": f"T{len(tasks) + 1}", "title": item} if isinstance(item, str) else item
        if not isinstance(raw, dict) or "id" not in raw:
            raise SquadError("each task needs an `id`", path=path, line=_line_of(text, "tasks"))
        estimate = raw.get("estimate")
        resource = raw.get("resource")
        if resource is not None and not isinstance(resource, str):
            raise SquadError(f"task {raw['id']}: resource must be a name such as @db-migrations", path=path,
                             line=_line_of(text, "tasks"))  # fmt: skip
        subtasks = raw.get("subtasks") or ()
        if not isinstance(subtasks, list | tuple):
            raise SquadError(f"task {raw['id']}: subtasks must be a list", path=path, line=_line_of(text, "tasks"))
        tasks.append(
            PlanTask(
                id=str(raw["id"]),
                title=str(raw.get("title", raw["id"])),
                files=_str_list(raw.get("files"), "files", path),
                depends_on=_str_list(raw.get("depends_on"), "depends_on", path),
                estimate=str(estimate) if estimate is not None else None,
                resource=resource,
                unclassified=bool(raw.get("unclassified", False)),
                subtasks=tuple(str(s) for s in subtasks if s is not None),
            )
        )
    role = meta.pop("role", None)
    return Plan(
        agent=str(agent),
        role=str(role) if role else None,
        owns=_str_list(meta.pop("owns", None), "owns", path),
        shared=_str_list(meta.pop("shared", None), "shared", path),
        read_only=_str_list(meta.pop("read_only", None), "read_only", path),
        tasks=tuple(tasks),
        handoffs_in=_handoffs(meta.pop("handoffs_in", None), "from", path, text),
        handoffs_out=_handoffs(meta.pop("handoffs_out", None), "to", path, text),
        body=str(post.content) + ("\n" if post.content else ""),
        reads=_str_list(meta.pop("reads", None), "reads", path),
        extra=meta,
        lines=lines,
    )


_PATH_KEYS = ("owns", "shared", "read_only", "reads")


def _front_lines(text: str, key: str, values: Any) -> list[tuple[Any, int]]:
    """(value, line) for each value of a front-matter list: the line of its ``- item`` when the list
    is a block, else the line of ``key:``. Cheap text matching, no YAML positions: only for naming
    the source of a rule."""
    if not isinstance(values, list | str) or not text.startswith("---"):
        return []
    values = [values] if isinstance(values, str) else values
    rows = text.splitlines()
    start = next((i for i, row in enumerate(rows[1:], start=1) if row.startswith(f"{key}:")), None)
    if start is None:
        return []
    out: list[tuple[Any, int]] = []
    items: dict[str, int] = {}
    for i in range(start + 1, len(rows)):
        row = rows[i]
        if row.strip() == "---" or (row and not row[0].isspace() and not row.startswith("-")):
            break
        item = row.strip()
        if item.startswith("-"):
            items.setdefault(strip_path(item[1:].split(" #", 1)[0]), i + 1)
    for value in values:
        out.append((value, items.get(strip_path(str(value)), start + 1)))
    return out


def _body_offset(text: str, content: str) -> int:
    """How many lines of the file come before the body (the front matter and its fences)."""
    if not content:
        return 0
    index = text.find(content)
    return text.count("\n", 0, index) if index >= 0 else 0


def _handoffs(value: Any, side: str, path: Path, text: str) -> tuple[Handoff, ...]:
    if value is not None and not isinstance(value, list):
        key = "handoffs_in" if side == "from" else "handoffs_out"
        raise SquadError(f"`{key}` must be a list", path=path, line=_line_of(text, key))
    out = []
    for raw in value or []:
        if isinstance(raw, dict):
            out.append(
                Handoff(
                    task=str(raw.get("task", "")),
                    agent=str(raw.get(side, "")),
                    file=str(raw["file"]) if raw.get("file") is not None else None,
                )
            )
    return tuple(out)


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def read_plan(path: Path) -> Plan:
    """The plan at ``path``; anything malformed (bytes, YAML, fields) is a SquadError naming it."""
    from squad.protocol.textfile import read_text

    return parse_plan(read_text(path), path)
