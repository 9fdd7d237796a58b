"""What a plan's markdown body says, for plans written without front matter.

Agents and humans who follow ai-agent-hub's squad mode write plans as plain markdown with the
sections "Agent Identity", "Tasks" and "File Ownership" (CREATE / MODIFY / READ-ONLY). squad reads
them untouched: where the front matter is silent, the body is asked.

The sections mean what their writers mean. CREATE and MODIFY are the files this agent writes
(``owns``; ``shared`` when the label says the file is shared or needs a lock). READ-ONLY lists the
files this agent *reads* (``reads``): it constrains nobody, unlike squad's front-matter key
``read_only:``, which makes a path READONLY for every agent during the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from squad.paths import strip_path
from squad.protocol.ids import mentioned_agent

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_KEY_RE = re.compile(r"^\s*(?:[-*+]\s+)?\**\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*\**\s*:\s*\**\s*(.*?)\s*$")
_PATH_RE = re.compile(r"`([^`]+)`|((?:/|\./)?[\w@.-]+(?:/[\w@.*-]*)+|[\w*-]+\.[A-Za-z0-9*]{1,8}\b)")
_TASK_ID_RE = re.compile(r"^\**\s*((?:[A-Za-z]{1,3}-?\d+)|Task\s+\d+)\s*\**\s*[:.)-]\s*\**\s*(.*)$", re.IGNORECASE)
_DEPENDS_RE = re.compile(
    r"\b(?:depends on|after|needs)\s*:?\s*([A-Za-z]{1,3}-?\d+(?:\s*,\s*[A-Za-z]{1,3}-?\d+)*)", re.IGNORECASE
)


@dataclass
class BodyFacts:
    agent: str | None = None
    role: str | None = None
    owns: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    tasks: list[tuple[str, str, str | None, tuple[str, ...]]] = field(default_factory=list)  # id, title, estimate, deps
    # (list, path) -> the body line (1-based) that first names it, so a rule can say where it came from.
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, kind: str, values: list[str], line: int) -> None:
        target: list[str] = getattr(self, kind)
        for path in values:
            if path not in target:
                target.append(path)
                self.lines.setdefault((kind, path), line)


def _mode(label: str) -> str | None:
    """Which list a File Ownership label feeds: CREATE / MODIFY are the agent's own, unless the label
    says the file is shared or locked; READ-ONLY (however worded) is what the agent reads."""
    low = label.lower()
    if re.search(r"read[\s_-]?only|do not (?:modify|edit|touch)|never", low):
        return "reads"
    if re.search(r"shared|sequential|lock|coordinat", low):
        return "shared"
    if re.search(r"\b(create|modify|own|exclusive|edit)\w*", low):
        return "owns"
    return None


def _paths(text: str) -> list[str]:
    out = []
    for match in _PATH_RE.finditer(text):
        token = (match.group(1) or match.group(2) or "").strip()
        if token and not token.lower().startswith(("agent-", "http")):
            out.append(strip_path(token))
    return out


def read_body(text: str) -> BodyFacts:
    facts = BodyFacts()
    section = ""
    mode: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        heading = _HEADING_RE.match(raw)
        if heading:
            title = heading.group(2).strip()
            low = title.lower()
            if len(heading.group(1)) <= 2 or any(w in low for w in ("identity", "task", "ownership", "files")):
                section = low
                mode = _mode(title) if "ownership" in low or "file" in low else None
            elif "ownership" in section or "file" in section:
                mode = _mode(title) or mode
            if facts.agent is None and ("identity" in low or len(heading.group(1)) == 1):
                agent = mentioned_agent(title)
                if agent is not None and agent.role:
                    facts.agent = str(agent)
            continue
        key = _KEY_RE.match(raw)
        item = _ITEM_RE.match(raw)
        if "identity" in section or facts.agent is None:
            if key and key.group(1).lower().replace("_", " ") in ("agent id", "agent", "id", "agent name"):
                agent = mentioned_agent(key.group(2))
                if agent is not None:
                    facts.agent = str(agent)
            elif key and key.group(1).lower() in ("role", "type", "agent type") and facts.role is None:
                facts.role = key.group(2).strip("`*_ ").lower() or None
            elif key and key.group(1).lower() == "assigned files":  # "files this agent owns"
                facts.add("owns", _paths(key.group(2)), number)
        if "ownership" in section or ("file" in section and "task" not in section):
            if key and not item and _mode(key.group(1)):
                mode = _mode(key.group(1))
                if mode is not None:
                    facts.add(mode, _paths(key.group(2)), number)
                continue
            if item and mode:
                label = _KEY_RE.match(item.group(1))
                labelled = _mode(label.group(1)) if label else None
                values = label.group(2) if label and labelled else item.group(1)
                facts.add(labelled or mode, _paths(values), number)
        elif "task" in section and item and not raw.startswith(("  ", "\t")):
            _add_task(facts, item.group(1))
    return facts


def _add_task(facts: BodyFacts, text: str) -> None:
    text = re.sub(r"^\[[ xX]\]\s*", "", text.strip())
    match = _TASK_ID_RE.match(text)
    task_id, title = (re.sub(r"\s+", "", match.group(1)).upper(), match.group(2)) if match else (None, text)
    if task_id and task_id.startswith("TASK"):
        task_id = "T" + task_id[4:]
    estimate: str | None = None
    deps: tuple[str, ...] = ()
    # "(2h)", "(3h, depends on: B2)", "(depends on: T1)": a trailing note of estimate and dependencies.
    note = re.search(r"\(([^()]*)\)\s*$", title)
    if note:
        parts = [part.strip() for part in note.group(1).split(",")]
        for part in parts:
            if re.fullmatch(r"\d+(?:\.\d+)?\s*(?:m|min|h|hr|hours?|d|days?)", part, re.IGNORECASE):
                estimate = part.replace(" ", "")
            elif depends := _DEPENDS_RE.search(part):
                deps += tuple(d.strip().upper() for d in depends.group(1).split(","))
        title = title[: note.start()]
    if not deps and (depends := _DEPENDS_RE.search(title)):
        deps = tuple(d.strip().upper() for d in depends.group(1).split(","))
        title = title[: depends.start()]
    title = " ".join(title.replace("**", "").split()).strip(" -—:,;")
    if not title:
        return
    facts.tasks.append((task_id or f"T{len(facts.tasks) + 1}", title, estimate, deps))
