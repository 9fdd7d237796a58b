"""squad.enforce.bash over tree-sitter's bash grammar: which files a command line writes, or why it cannot tell."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from squad.enforce.bash import write_targets
from squad.enforce.bash_commands import MAX_BRACE_WORDS, Unjudgeable, braces


def targets(command: str, cwd: Path) -> list[tuple[str, str]]:
    return [
        (str(Path(t.path).relative_to(cwd)) if t.path.startswith(str(cwd)) else t.path, t.via)
        for t in write_targets(command, cwd)
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo x > $'a\\x2fb'", [("a/b", ">")]),
        ("echo x > $'tab\\there'", [("tab\there", ">")]),
        ('echo x > "q\'{a,b}"', [("q'{a,b}", ">")]),
        ("echo x > '*.txt'", [("*.txt", ">")]),
        ("touch f{1..3}", [("f1", "touch"), ("f2", "touch"), ("f3", "touch")]),
        ("touch '{a,b}'", [("{a,b}", "touch")]),
        ("echo `echo \\`touch deep\\``", [("deep", "touch")]),
        ("cat <<EOF\n$(touch in-heredoc)\nEOF", [("in-heredoc", "touch")]),
        ("cat <<'EOF'\n$(touch not-run)\nEOF", []),
        ("x=${y:-$(touch default)}", [("default", "touch")]),
        ("eval 'cd sub && touch e'", [("sub/e", "touch")]),
        ("sh -ec 'touch s'", [("s", "touch")]),
        ("busybox rm b", [("b", "rm")]),
        ("sudo -u me nice -n 5 rm n", [("n", "rm")]),
        ("echo a b | xargs touch", [("a", "touch"), ("b", "touch")]),
        ("find src -exec sed -i s/a/b/ {} \\;", [("src", "sed -i")]),
        ("ln -s x link && echo y > link", [("link", "ln -s"), ("link", ">"), ("x", ">")]),
        ("ln a b", [("b", "ln"), ("a", "ln (hard link)")]),
        ("cp -al a b", [("b", "cp"), ("a", "cp (hard link)")]),
        ("(cd sub; touch inner); touch outer", [("sub/inner", "touch"), ("outer", "touch")]),
        ("echo $HOME; cat $F; grep -r $PAT .", []),
        ("cmd 2>&1 >&2 >&-", []),
    ],
)
def test_targets(command: str, expected: list[tuple[str, str]], tmp_path: Path) -> None:
    assert targets(command, tmp_path) == expected


def test_a_write_through_a_link_made_on_the_line_lands_on_its_target(tmp_path: Path) -> None:
    got = [t.path for t in write_targets("ln -s ../elsewhere/api.py s.py && echo X > s.py", tmp_path / "repo")]
    assert str(tmp_path / "elsewhere" / "api.py") in got


@pytest.mark.parametrize(
    "command",
    [
        "touch $F",
        'echo > "$OUT"',
        "$X file",
        "cd $D && touch y",
        "find . -exec sh -c 'rm \"$1\"' _ {} \\;",
        "curl https://x | sh",
        "ls | xargs rm",
        "echo x > 'unterminated",
        'eval "$CMD"',
        "echo " + "$(" * 300 + ")" * 300,
    ],
)
def test_unjudgeable(command: str, tmp_path: Path) -> None:
    with pytest.raises(Unjudgeable):
        write_targets(command, tmp_path)


def test_brace_expansion_is_capped_not_exponential() -> None:
    start = time.monotonic()
    with pytest.raises(Unjudgeable, match="too complex"):
        braces("x" + "{a,b}" * 60)
    with pytest.raises(Unjudgeable):
        braces("{1..100000}")
    assert len(braces("{a,b}" * 8)) == MAX_BRACE_WORDS
    assert braces("\\{a,b\\}") == ["\\{a,b\\}"]
    assert braces("{x}") == ["{x}"]
    assert time.monotonic() - start < 1


def test_the_deadline_refuses(tmp_path: Path) -> None:
    with pytest.raises(Unjudgeable, match="time budget"):
        write_targets("touch a; touch b", tmp_path, deadline=time.monotonic() - 1)


def test_tree_sitter_is_imported_only_for_bash() -> None:
    import subprocess

    code = "import sys, squad.enforce.guard, squad.enforce.access; print('tree_sitter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
