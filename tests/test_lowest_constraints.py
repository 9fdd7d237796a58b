"""tools/lowest_constraints.py: the pins CI's lowest-versions run installs, read from pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "lowest_constraints.py"


def test_every_bounded_dependency_is_pinned_to_its_lower_bound() -> None:
    result = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, check=True)
    pins = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    expected: dict[str, str] = {}  # a dependency named in two extras is pinned once
    for requirement in declared:
        if ">=" in requirement:
            name, lower = requirement.split(";")[0].split(">=")
            name = re.sub(r"[-_.]+", "-", name.strip()).lower()
            expected.setdefault(name, f"{name}=={lower.split(',')[0].strip()}")
    assert [pin.split(";")[0] for pin in pins] == list(expected.values())


def test_markers_extras_and_other_specifiers(tmp_path: Path) -> None:
    sys.path.insert(0, str(TOOL.parent))
    try:
        from lowest_constraints import lower_bound_pins
    finally:
        sys.path.remove(str(TOOL.parent))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\n"
        'dependencies = ["Foo_Bar[x]>=1.2,<3; python_version < \'3.12\'", "plain", "pinned==2.0", "cap<4"]\n'
        '[project.optional-dependencies]\ndev = ["near~=0.5", "foo-bar>=9"]\n'
    )
    assert lower_bound_pins(pyproject) == [
        "foo-bar==1.2; python_version < '3.12'",
        "pinned==2.0",
        "near==0.5",
    ]
