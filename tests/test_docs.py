"""Docs that cannot drift: every command has an example and a current section in docs/cli.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_cli_docs  # noqa: E402
import gen_config_docs  # noqa: E402


@pytest.mark.parametrize(
    ("path", "command"), gen_cli_docs.commands()[1:], ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_every_command_has_help_with_an_example(path: list[str], command: object) -> None:
    import click

    assert isinstance(command, click.Command)
    text = gen_cli_docs.help_text(path, command)
    assert "Example" in text, f"{' '.join(path)} --help has no example"
    assert f"### `{' '.join(path)}`" in (ROOT / "docs" / "cli.md").read_text()


def test_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_cli_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_config_reference_is_current_and_every_setting_is_explained() -> None:
    assert gen_config_docs.undocumented() == []
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_config_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_readme_has_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "examples/parallel-test/run-demo.sh" in readme
    assert "python -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in ci
