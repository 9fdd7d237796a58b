"""Regenerate the command reference in docs/cli.md from the commands' own --help.

Run `python tools/gen_cli_docs.py` after changing a command; `--check` exits 1 when the file is out
of date (the tests run it), so the docs cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from squad.cli.main import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
BEGIN = "<!-- BEGIN GENERATED: squad --help -->"
END = "<!-- END GENERATED -->"


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out.extend(_walk(sub, [*path, name]))
    return out


def commands() -> list[tuple[list[str], click.Command]]:
    return _walk(cli, ["squad"])


def help_text(path: list[str], command: click.Command) -> str:
    parent = None
    ctx = None
    for i, name in enumerate(path):
        ctx = click.Context(command if i == len(path) - 1 else cli, info_name=name, parent=parent, terminal_width=100)
        parent = ctx
    assert ctx is not None
    return command.get_help(ctx)


def render() -> str:
    parts = [BEGIN, ""]
    for path, command in commands()[1:]:
        parts += [f"### `{' '.join(path)}`", "", "```", help_text(path, command).rstrip(), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + render() + text[end:]
    if "--check" in argv:
        if new != text:
            print("docs/cli.md is out of date: run python tools/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
