from __future__ import annotations

from click.testing import CliRunner

from squad.paths import SquadPaths
from tests.conftest import invoke


def test_update_then_status(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "update", "--agent", "1", "--status", "ACTIV")
    assert result.exit_code == 2
    assert "unknown status 'ACTIV'" in result.output
