"""A markdown document as the readers see it: headings, list items and paragraphs, with lines.

Built from markdown-it-py's token stream, so text inside fenced code blocks and HTML comments never
becomes a list item (a fence is one ``fence`` token, a comment an ``html_block``), and an inline
comment inside an item is dropped from its text. YAML front matter is cut off first and kept as
raw ``key: value`` strings (never through YAML, which reads ``depends_on: [010]`` as the number 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from squad.allocate.prd import looks_like_path
from squad.paths import strip_path

_FRONT_RE = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_CHECK_RE = re.compile(r"^\[([ xX\-~/])\](\*)?\s*")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Heading:
    line: int
    level: int
    text: str


@dataclass(frozen=True)
class Item:
    line: int
    depth: int  # 1 for a top-level list item
    text: str  # checkbox taken off, code spans kept in backticks, HTML comments dropped
    check: str | None  # " ", "x", "-" (in progress), "~"; None without a checkbox
    optional: bool  # ``- [ ]* 2.3 ...`` (Kiro's optional task)
    number: str | None  # "3" for an ordered item "3."
    heading: int  # index into Outline.headings of the nearest heading above, -1 for none
    parent: int | None  # index into Outline.items of the enclosing item
    paths: tuple[str, ...]  # paths in its code spans


@dataclass(frozen=True)
class Para:
    line: int
    text: str
    heading: int
    item: int | None  # the list item it continues, if any
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Outline:
    headings: tuple[Heading, ...]
    items: tuple[Item, ...]
    paras: tuple[Para, ...]
    front: dict[str, str] = field(default_factory=dict)  # front matter, raw values

    def under(self, heading: int) -> tuple[str, ...]:
        """The texts of the heading and of every heading above it, innermost first."""
        out: list[str] = []
        level = 99
        for index in range(heading, -1, -1):
            h = self.headings[index]
            if h.level < level:
                out.append(h.text)
                level = h.level
        return tuple(out)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` pairs of a leading ``---`` block, and the text with that block blanked
    (same number of lines, so every line number stays the file's)."""
    match = _FRONT_RE.match(text)
    if not match:
        return {}, text
    values: dict[str, str] = {}
    for line in match.group(1).splitlines():
        pair = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$", line)
        if pair:
            values[pair.group(1).lower()] = pair.group(2)
    blank = "\n" * match.group(0).count("\n")
    return values, blank + text[match.end() :]


def raw_list(value: str) -> list[str]:
    """``[001, 002]``, ``001, 002``, ``["1.2"]`` -> ``["001", "002"]``, as written."""
    value = value.strip().strip("[]")
    return [v.strip().strip("'\"#").strip() for v in value.split(",") if v.strip().strip("'\"#").strip()]


def code_path(content: str) -> str | None:
    """A code span's path, or None: ``/frontend/App.tsx`` counts (a leading slash is dropped) but
    ``/api/metrics`` (a route) does not."""
    content = content.strip()
    if content.startswith("/"):
        bare = content.lstrip("/")
        return strip_path(bare) if looks_like_path(bare) else None
    return strip_path(content) if looks_like_path(content, backticked=True) else None


def _inline(token: Any) -> tuple[str, list[str]]:
    parts: list[str] = []
    paths: list[str] = []
    for child in token.children or []:
        if child.type == "code_inline":
            parts.append(f"`{child.content}`")
            path = code_path(child.content)
            if path:
                paths.append(path)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "text" or (child.type == "html_inline" and not child.content.startswith("<!--")):
            parts.append(child.content)
    return _COMMENT_RE.sub("", "".join(parts)), paths


def parse_outline(text: str) -> Outline:
    from markdown_it import MarkdownIt

    front, body = front_matter(text.removeprefix("\ufeff"))
    tokens = MarkdownIt("commonmark").parse(body)
    headings: list[Heading] = []
    items: list[Item] = []
    paras: list[Para] = []
    open_items: list[int | None] = []  # per open list item: its index in items once its text is read
    numbers: list[str | None] = []
    pending_heading: int | None = None
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            pending_heading = int(token.tag[1:])
        elif kind == "inline" and pending_heading is not None:
            content, _ = _inline(token)
            headings.append(Heading((token.map[0] if token.map else 0) + 1, pending_heading, content.strip()))
            pending_heading = None
        elif kind == "list_item_open":
            open_items.append(None)
            numbers.append(token.info or None)
        elif kind == "list_item_close":
            open_items.pop()
            numbers.pop()
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content, paths = _inline(token)
            line = (token.map[0] if token.map else 0) + 1
            if open_items and open_items[-1] is None:
                check_match = _CHECK_RE.match(content)
                check = optional = None
                if check_match:
                    check, optional = check_match.group(1).lower(), bool(check_match.group(2))
                    content = content[check_match.end() :]
                parent = next((k for k in reversed(open_items[:-1]) if k is not None), None)
                open_items[-1] = len(items)
                items.append(
                    Item(
                        line,
                        len(open_items),
                        content.strip(),
                        check,
                        bool(optional),
                        numbers[-1],
                        len(headings) - 1,
                        parent,
                        tuple(paths),
                    )
                )
            else:
                owner = next((k for k in reversed(open_items) if k is not None), None)
                paras.append(Para(line, content.strip(), len(headings) - 1, owner, tuple(paths)))
    return Outline(tuple(headings), tuple(items), tuple(paras), front)
