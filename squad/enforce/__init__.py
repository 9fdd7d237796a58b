"""Enforcement: may this agent write this path now (``access``), and the hooks that ask before a
write happens: ``guard`` (Claude Code's PreToolUse hook and the git pre-commit hook), ``targets``
(where a write lands: symlinks, worktrees, the squad a path belongs to), ``bash`` (the files a shell
command writes, from its tree-sitter parse; ``bash_commands`` and ``bash_patch`` know each command),
and ``hooks`` (installing and removing them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squad._lazy import exports

if TYPE_CHECKING:
    from squad.enforce.access import Decision, check_paths, load_rules, may_write
    from squad.enforce.bash import write_targets
    from squad.enforce.guard import claude_hook, git_hook
    from squad.enforce.hooks import install, uninstall

_WHERE = {
    "Decision": "squad.enforce.access",
    "check_paths": "squad.enforce.access",
    "load_rules": "squad.enforce.access",
    "may_write": "squad.enforce.access",
    "claude_hook": "squad.enforce.guard",
    "git_hook": "squad.enforce.guard",
    "write_targets": "squad.enforce.bash",
    "install": "squad.enforce.hooks",
    "uninstall": "squad.enforce.hooks",
}
__all__ = [
    "Decision",
    "check_paths",
    "claude_hook",
    "git_hook",
    "install",
    "load_rules",
    "may_write",
    "uninstall",
    "write_targets",
]


__getattr__ = exports(__name__, _WHERE)
