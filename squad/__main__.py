"""``python -m squad``: the same CLI as the ``squad`` console script (hooks fall back to it)."""

from squad.cli.main import run

if __name__ == "__main__":
    run()
