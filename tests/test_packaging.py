"""The distribution: every package listed in pyproject.toml, and templates found from a real install."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "squad").rglob("__init__.py")}
    assert found | {"squad.templates"} == listed
    assert config["package-dir"] == {"squad.templates": "templates"}


@pytest.mark.slow
def test_a_regular_install_finds_the_templates(tmp_path: Path) -> None:
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    # The dependencies come from the test run's own environment (no download): its site-packages on
    # the new venv's path, after the venv's own (so `import squad` finds the installed copy).
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    result = subprocess.run(
        [str(venv / "bin" / "squad"), "init", "--prd"], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (repo / "feature-prd.md").read_text() == (ROOT / "templates" / "feature-prd.md").read_text()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import squad; print(squad.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where  # the installed copy, not the clone
