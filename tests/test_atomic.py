"""Atomic replace and whole-block appends, with real concurrent processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from squad.atomic import append_lines, create_exclusive, write_atomic


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.md"
    write_atomic(target, "one\n")
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["file.md"]


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "x"
    assert create_exclusive(target, "a")
    assert not create_exclusive(target, "b")
    assert target.read_text() == "a"


def _appender(path: str, worker: int) -> None:
    for i in range(100):
        block = "".join(f"w{worker} i{i} line{j} " + "x" * 200 + "\n" for j in range(20))
        append_lines(Path(path), block)


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    target = tmp_path / "log.md"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_appender, args=(str(target), w)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = target.read_text().splitlines()
    assert len(lines) == 6 * 100 * 20
    for start in range(0, len(lines), 20):
        block = lines[start : start + 20]
        head = block[0].split(" line")[0]
        assert all(line.startswith(head + " line") for line in block)
        assert [line.split()[2] for line in block] == [f"line{j}" for j in range(20)]
