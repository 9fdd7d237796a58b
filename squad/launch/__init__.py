"""``squad launch``: run the agents in git worktrees, watch them, retry them, and keep their work."""
