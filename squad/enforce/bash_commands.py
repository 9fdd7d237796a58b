"""What each command a Bash line runs would write: per-command argument readers for ``squad.enforce.bash``.

A reader takes the command's name, its words after the name and its working directory, and names
the words it writes (``mv`` its sources and destination, ``sed -i`` its files, ``git restore`` its
paths, ``rsync`` its destination, ``patch`` / ``git apply`` the files the patch names, ...).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from squad.errors import Refused


class Unjudgeable(Refused):
    """A command or path squad cannot judge in advance: the write is refused (fail closed), never allowed."""


@dataclass(frozen=True)
class Word:
    text: str
    dynamic: bool = False  # holds $VAR, $(...) or `...`: its value is unknowable here
    globbing: bool = False  # holds an unquoted * ? [
    body: str | None = None  # a here-document's text, on the delimiter word of ``<<``


@dataclass(frozen=True)
class Target:
    """A path a command would write: as written, resolved against the command's working directory."""

    path: str
    via: str  # what writes it: ">", "tee", "sed -i", "rm", ...


_Handler = Callable[[str, list["Word"], Path], list[tuple["Word", str]]]


MAX_BRACE_WORDS = 256  # bash would expand more; squad refuses rather than spend its time budget


def resolve(word: Word, cwd: Path, via: str) -> Iterator[Target]:
    """The paths ``word`` names: ``~`` expanded, globs matched, made absolute against ``cwd``.

    A word built from variables or command output cannot be placed: ``Unjudgeable`` (fail closed).
    """
    if word.dynamic:
        raise Unjudgeable(
            f"cannot tell where {via} writes: {word.text or '$...'!r} is built from variables or command output"
        )
    if not word.text:
        return
    text = home(word.text)
    matches = sorted(glob.glob(text, root_dir=cwd)) if word.globbing else []  # noqa: PTH207
    # glob.glob takes absolute patterns too, which Path.glob does not; no match: the word as written.
    for match in matches or [text]:
        yield Target(_absolute(match, cwd), via)


def braces(text: str, limit: int = MAX_BRACE_WORDS) -> list[str]:
    """Bash brace expansion of ``a{b,c}d`` and ``{1..3}`` (nested too); backslash-escaped characters
    are literal and stay escaped. More than ``limit`` words raise ``Unjudgeable``: the work is bounded
    by the words produced, never by how many braces there are."""
    start, end, options = _first_group(text)
    if start < 0:
        return [text]
    prefix, suffix = text[:start], text[end + 1 :]
    tails = braces(suffix, limit)
    heads: list[str] = []
    for option in options:
        heads.extend(braces(option, limit))
        if len(heads) * len(tails) > limit:
            raise Unjudgeable(f"brace expansion of more than {limit} words: too complex to check")
    if len(heads) * len(tails) > limit:
        raise Unjudgeable(f"brace expansion of more than {limit} words: too complex to check")
    return [prefix + h + t for h in heads for t in tails]


def _first_group(text: str) -> tuple[int, int, list[str]]:
    """The first unescaped ``{...}`` that bash expands: its bounds and its options; (-1, -1, []) if none."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            end, parts = _group_at(text, i)
            if end >= 0:
                options = parts if len(parts) > 1 else _sequence(parts[0])
                if options is not None:
                    return i, end, options
        i += 1
    return -1, -1, []


def _group_at(text: str, start: int) -> tuple[int, list[str]]:
    depth, last = 0, start + 1
    parts: list[str] = []
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i, [*parts, text[last:i]]
        elif c == "," and depth == 1:
            parts.append(text[last:i])
            last = i + 1
        i += 1
    return -1, []


_SEQUENCE_RE = re.compile(r"^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$")


def _sequence(body: str) -> list[str] | None:
    """``1..5``, ``a..e``, ``0..10..2``: the words, bounded; None when ``body`` is no sequence."""
    match = _SEQUENCE_RE.match(body)
    if match is None:
        return None
    first, last, step_text = match.groups()
    step = abs(int(step_text)) if step_text else 1
    if first.lstrip("-").isdigit() != last.lstrip("-").isdigit():
        return None
    if first.lstrip("-").isdigit():
        a, b = int(first), int(last)
        count = abs(b - a) // max(step, 1) + 1
        if count > MAX_BRACE_WORDS:
            raise Unjudgeable(f"brace expansion of more than {MAX_BRACE_WORDS} words: too complex to check")
        sign = 1 if b >= a else -1
        return [str(a + sign * k * max(step, 1)) for k in range(count)]
    a, b = ord(first), ord(last)
    sign = 1 if b >= a else -1
    return [chr(c) for c in range(a, b + sign, sign * max(step, 1))]


def hooks_bypassed(args: list[Word], cwd: Path) -> Word | None:
    """``git -c core.hooksPath=...`` before the subcommand: that run uses other hooks than squad's.
    The hooks folder it bypasses, as the target to refuse; None for any other git run."""
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        lowered = args[i].text.lower()
        by_c = lowered == "-c" and i + 1 < len(args) and args[i + 1].text.lower().startswith("core.hookspath")
        if by_c or (lowered.startswith("--config-env") and "hookspath" in lowered):
            return Word(os.path.relpath(_checkout_top(cwd) / ".git" / "hooks", cwd))
        takes_value = args[i].text in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path")
        i += 2 if takes_value else 1
    return None


def _squad(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``squad hooks uninstall``: an agent removing the hooks that judge it."""
    texts = [a.text for a in args]
    if texts[:2] == ["hooks", "uninstall"]:
        return [(Word(os.path.relpath(_checkout_top(cwd) / ".git" / "hooks", cwd)), "squad hooks uninstall")]
    return []


def git_globals(args: list[Word], cwd: Path) -> tuple[list[Word], Path]:
    """git's options before the subcommand dropped; ``-C DIR`` moves the working directory."""
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        text = args[i].text
        if text in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path") and i + 1 < len(args):
            if text == "-C":
                if args[i + 1].dynamic:
                    return [], cwd
                cwd = Path(_absolute(home(args[i + 1].text), cwd))
            i += 2
        else:
            i += 1
    return args[i:], cwd


def home(text: str) -> str:
    """``~`` and ``~user`` expanded; an unknown user is left as written (Path.expanduser raises)."""
    return os.path.expanduser(text)  # noqa: PTH111


def _absolute(text: str, cwd: Path) -> str:
    folder = text.endswith("/") and text != "/"
    joined = os.path.normpath(cwd / text)
    return joined + "/" if folder else joined


# -- per-command argument readers: (name, args, cwd) -> [(word, via)] ------------------------------


def _split_options(args: list[Word], takes_value: set[str]) -> tuple[list[Word], dict[str, Word]]:
    """Positional words and the values of options that take one (``-t DIR``, ``--target-directory=DIR``)."""
    positional: list[Word] = []
    values: dict[str, Word] = {}
    i = 0
    while i < len(args):
        text = args[i].text
        if text == "--":
            positional.extend(args[i + 1 :])
            break
        if text.startswith("--") and "=" in text:
            key, _, value = text.partition("=")
            values[key] = Word(value, args[i].dynamic, args[i].globbing)
        elif text.startswith("-") and text != "-":
            if text in takes_value and i + 1 < len(args):
                values[text] = args[i + 1]
                i += 1
            elif len(text) > 2 and not text.startswith("--") and text[:2] in takes_value:
                values[text[:2]] = Word(text[2:], args[i].dynamic, args[i].globbing)
        else:
            positional.append(args[i])
        i += 1
    return positional, values


def _plain(takes_value: set[str]) -> _Handler:
    def handler(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
        positional, _ = _split_options(args, takes_value)
        return [(w, name) for w in positional]

    return handler


_COPY_VALUES = {"-t", "--target-directory", "-S", "--suffix"}


def _copy_like(*, moves: bool, takes_value: set[str]) -> _Handler:
    """``mv`` / ``cp`` / ``ln`` / ``install``: the destination (``DIR/name`` for a folder), and for ``mv`` the sources.

    A hard link (``ln``, ``cp -l``) also counts as a write of its source: the two names are one file,
    so whoever may write the link may write the source. A symbolic link changes only the link.
    """

    def handler(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
        kind = _link_kind(name, args)
        via = f"{name} -s" if kind == "symbolic" else name
        pairs = _pairs(name, args, cwd, takes_value)
        sources = [src for src, _ in pairs]
        out = [(src, name) for src in sources] if moves else []
        out.extend(dict.fromkeys((dest, via) for _, dest in pairs))
        if kind == "hard":
            out.extend((src, f"{name} (hard link)") for src in sources)
        return out

    return handler


def _pairs(name: str, args: list[Word], cwd: Path, takes_value: set[str]) -> list[tuple[Word, Word]]:
    """``(source, what it becomes)`` for each source of ``mv`` / ``cp`` / ``ln`` / ``install``."""
    positional, values = _split_options(args, takes_value)
    target_dir = values.get("-t") or values.get("--target-directory")
    if target_dir is not None:
        sources, dest = positional, target_dir
    elif len(positional) >= 2:
        sources, dest = positional[:-1], positional[-1]
    elif name == "ln" and len(positional) == 1:
        sources, dest = positional, Word(".")  # `ln -s ../x`: a link named x, here
    else:
        return []
    no_target_dir = any(a.text in ("-T", "--no-target-directory") for a in args) or (
        name == "ln" and _no_dereference(args) and not dest.dynamic and (cwd / home(dest.text.rstrip("/"))).is_symlink()
    )
    into_folder = not no_target_dir and (
        target_dir is not None or dest.text.endswith("/") or len(sources) > 1 or _is_dir(dest, cwd) or dest.text == "."
    )
    out = []
    for src in sources:
        base = PurePosixPath(src.text.rstrip("/")).name
        if into_folder and not dest.dynamic and not (src.dynamic or src.globbing or not base):
            out.append((src, Word(dest.text.rstrip("/") + "/" + base)))
        else:
            out.append((src, dest))
    return out


def _link_kind(name: str, args: list[Word]) -> str | None:
    """``"hard"``, ``"symbolic"`` or None (a plain copy or move)."""
    flags = [a.text for a in args if a.text.startswith("-") and a.text != "-"]
    short = "".join(f[1:] for f in flags if not f.startswith("--"))
    if name == "ln":
        return "symbolic" if "--symbolic" in flags or "s" in short else "hard"
    if name == "cp":
        if "--symbolic-link" in flags or "s" in short:
            return "symbolic"
        if "--link" in flags or "l" in short:
            return "hard"
    return None


@dataclass(frozen=True)
class LinkWrites:
    """Symbolic links a command makes: ``(link, destination)``, both absolute."""

    symlinks: tuple[tuple[str, str], ...] = ()


def link_writes(name: str, args: list[Word], cwd: Path) -> LinkWrites:
    """The symbolic links ``ln -s`` / ``cp -s`` make, so later writes on the same line through them
    are judged where they land (the links do not exist yet when the guard runs)."""
    if _link_kind(name, args) != "symbolic":
        return LinkWrites()
    relative = any(
        a.text in ("-r", "--relative") or (a.text.startswith("-") and not a.text.startswith("--") and "r" in a.text)
        for a in args
    )
    out = []
    for src, link in _pairs(name, args, cwd, _COPY_VALUES):
        if src.dynamic or link.dynamic:
            continue  # the write through it is judged from the file system, or refused as unknowable
        link_path = _absolute(home(link.text.rstrip("/")), cwd)
        source = home(src.text)
        base = cwd if relative or name == "cp" else Path(link_path).parent
        out.append((link_path, os.path.normpath(base / source)))
    return LinkWrites(tuple(out))


def _no_dereference(args: list[Word]) -> bool:
    """``ln -n`` (``-sfn``, ``--no-dereference``): a destination that is a link to a folder is replaced."""
    return any(
        a.text == "--no-dereference" or (a.text.startswith("-") and not a.text.startswith("--") and "n" in a.text)
        for a in args
    )


def _is_dir(word: Word, cwd: Path) -> bool:
    return not word.dynamic and (cwd / home(word.text)).is_dir()


def _in_place(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``sed -i`` / ``perl -i``: the files after the script, when editing in place."""
    in_place = script_given = False
    positional: list[Word] = []
    i = 0
    while i < len(args):
        text = args[i].text
        if text == "--":
            positional.extend(args[i + 1 :])
            break
        if text.startswith("--"):
            key = text.partition("=")[0]
            if key == "--in-place":
                in_place = True
            elif key in ("--expression", "--file"):
                script_given = True
                i += 0 if "=" in text else 1
        elif text.startswith("-") and len(text) > 1:
            for j, flag in enumerate(text[1:], start=1):
                if flag == "i":
                    in_place = True
                    if name == "sed" and j == len(text) - 1 and i + 1 < len(args) and args[i + 1].text == "":
                        i += 1  # BSD sed: -i '' (an empty backup suffix)
                    break  # GNU: the rest of the word is the backup suffix
                if flag in "ef" or (name == "sed" and flag == "l"):
                    script_given = script_given or flag in "ef"
                    if j == len(text) - 1:
                        i += 1  # the value is the next word
                    break
        else:
            positional.append(args[i])
        i += 1
    if not in_place:
        return []
    files = positional if script_given else positional[1:]
    return [(w, f"{name} -i") for w in files]


def _find(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``find DIR ... -delete``: every starting folder may lose files; ``-fprint FILE`` writes FILE.
    (``-exec CMD`` is judged by ``squad.enforce.bash`` as CMD run on the files under the starting folders.)"""
    texts = [a.text for a in args]
    out: list[tuple[Word, str]] = [
        (args[i + 1], f"{name} {t}")
        for i, t in enumerate(texts[:-1])
        if t in ("-fprint", "-fprint0", "-fprintf", "-fls")
    ]
    if "-delete" not in texts:
        return out
    starts = []
    for word in args:
        if word.text.startswith(("-", "(", "!")):
            break
        starts.append(Word(word.text.rstrip("/") + "/", word.dynamic, word.globbing))
    return out + [(w, f"{name} -delete") for w in starts or [Word("./")]]


def patched_targets(name: str, args: list[Word], stdin: Word | None, cwd: Path) -> Iterator[Target]:
    """``patch`` and ``git apply``: the files the patch names (read from its file or here-document).

    ``patch FILE`` and ``patch -o OUT`` name their target outright. ``git apply`` reads names
    relative to the checkout top (default ``-p1``) and skips those outside the folder it runs in.
    """
    from squad.enforce.bash_patch import header_paths, read_patch, strip_components

    git = name == "git"
    if git:
        args = args[1:]  # "apply"
    takes = {"-p", "-i", "--input", "-o", "--output", "-d", "--directory", "-r", "-B", "-D", "-F", "-z", "-C"}
    positional, values = _split_options(
        args, takes - ({"-d", "-i", "-o", "-r", "-B", "-D", "-F", "-z"} if git else set())
    )
    flags = {a.text for a in args}
    via = "git apply" if git else "patch"
    if git and flags & {"--check", "--stat", "--numstat", "--summary"} and "--apply" not in flags:
        return
    if not git:
        if "-d" in values or "--directory" in values:
            folder = values.get("-d") or values["--directory"]
            if folder.dynamic:
                return
            cwd = Path(_absolute(home(folder.text), cwd))
        out = values.get("-o") or values.get("--output")
        if out is not None:
            yield from resolve(out, cwd, via)
            return
        if positional:
            yield from resolve(positional[0], cwd, via)  # patch FILE [PATCHFILE]: FILE is what changes
            return
    sources = positional if git else [values[k] for k in ("-i", "--input") if k in values]
    texts = []
    for word in sources or ([stdin] if stdin is not None else []):
        if word.body is not None:
            texts.append(word.body)
        elif not word.dynamic and word.text not in ("", "-"):
            text = read_patch(Path(_absolute(home(word.text), cwd)))
            if text is not None:
                texts.append(text)
    strip_word = values.get("-p") or values.get("--strip")
    strip: int | None = int(strip_word.text) if strip_word is not None and strip_word.text.isdigit() else None
    base = cwd
    if git:
        strip = 1 if strip is None else strip
        top = _checkout_top(cwd)
        prefix = values.get("--directory")
        base = top / prefix.text if prefix is not None and not prefix.dynamic else top
    seen: set[str] = set()
    for text in texts:
        for raw, strippable in header_paths(text):
            rel = strip_components(raw, strip if strippable else 0, cwd)
            if rel is None:
                continue
            target = _absolute(rel, base)
            if git and not (target == str(cwd) or target.startswith(str(cwd).rstrip("/") + "/")):
                continue  # git apply leaves paths outside the current folder alone
            if target not in seen:
                seen.add(target)
                yield Target(target, via)


def _checkout_top(cwd: Path) -> Path:
    for candidate in (cwd, *cwd.parents):
        if (candidate / ".git").exists():
            return candidate
    return cwd


def _rsync(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``rsync SRC... DEST``: ``DEST/`` for a source ending in ``/`` (its contents), else ``DEST/name``."""
    positional, _ = _split_options(args, _RSYNC_VALUES)
    if len(positional) < 2:
        return []
    sources, dest = positional[:-1], positional[-1]
    if _remote(dest.text):
        return []
    folder = dest.text.endswith("/") or len(sources) > 1 or _is_dir(dest, cwd)
    out: list[tuple[Word, str]] = []
    for src in sources:
        base = PurePosixPath(src.text.rstrip("/")).name
        if not folder:
            out.append((dest, name))
        elif src.text.endswith("/") or src.dynamic or src.globbing or not base or _remote(src.text):
            out.append((Word(dest.text.rstrip("/") + "/", dest.dynamic), name))
        else:
            out.append((Word(dest.text.rstrip("/") + "/" + base, dest.dynamic), name))
    return out


_RSYNC_VALUES = {
    "-e", "--rsh", "-f", "--filter", "--exclude", "--include", "--exclude-from", "--include-from",
    "--files-from", "-T", "--temp-dir", "--partial-dir", "--backup-dir", "--log-file", "--chmod",
    "--chown", "-B", "--block-size", "--timeout", "--bwlimit", "--max-size", "--min-size",
    "--compare-dest", "--copy-dest", "--link-dest", "--suffix", "--port", "--out-format", "-M",
    "--remote-option",
}  # fmt: skip


def _remote(text: str) -> bool:
    """``host:path`` or ``rsync://...``: not a local path."""
    head = text.split("/", 1)[0]
    return "://" in text or (":" in head and not head.startswith("."))


def _downloader(letter: str, long_names: tuple[str, ...], folder_option: tuple[str, ...] = ()) -> _Handler:
    """``curl -o FILE`` / ``wget -O FILE`` (also clustered: ``-sSLo FILE``, ``-oFILE``); ``wget -P DIR``."""

    def handler(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
        out: list[tuple[Word, str]] = []
        for i, word in enumerate(args):
            text, after = word.text, args[i + 1] if i + 1 < len(args) else None
            key, eq, value = text.partition("=")
            if key in long_names + folder_option and eq:
                found: Word | None = Word(value + ("/" if key in folder_option else ""), word.dynamic)
            elif text in long_names + folder_option:
                folder = text in folder_option
                found = Word(after.text + ("/" if folder else ""), after.dynamic) if after else None
            elif text.startswith("-") and not text.startswith("--") and letter in text[1:]:
                rest = text[text.index(letter, 1) + 1 :]
                found = Word(rest, word.dynamic) if rest else after
            else:
                found = None
            if found is not None and found.text not in ("-", "/dev/stdout"):
                out.append((found, name))
        return out

    return handler


def _chmod(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``chmod MODE FILE...`` / ``chown OWNER FILE...``: the files (``--reference=F`` replaces MODE)."""
    positional = [a for a in args if not a.text.startswith("-") or (name == "chmod" and a.text[1:2] in "rwxXst")]
    reference = any(a.text.startswith("--reference") for a in args)
    return [(w, name) for w in (positional if reference else positional[1:])]


def _dd(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    return [(Word(a.text[3:], a.dynamic, a.globbing), name) for a in args if a.text.startswith("of=")]


def _git(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``git mv`` / ``git rm`` write like ``mv`` / ``rm``; ``git restore``, ``git checkout -- PATH``,
    ``git stash``, ``git reset --hard`` and ``git clean -f`` overwrite or remove work in the tree.
    Other git commands are the git hook's business."""
    if not args:
        return []
    sub, rest = args[0].text, args[1:]
    texts = [a.text for a in rest]
    via = f"git {sub}"
    if sub in ("mv", "rm"):
        return [(w, f"git {v}") for w, v in HANDLERS[sub](sub, rest, cwd)]
    hooks = Word(os.path.relpath(_checkout_top(cwd) / ".git" / "hooks", cwd))
    if sub == "commit" and any(
        t == "--no-verify" or (t.startswith("-") and not t.startswith("--") and "n" in t.lstrip("-").split("m")[0])
        for t in texts
    ):
        return [(hooks, "git commit --no-verify")]  # the pre-commit check skipped: as good as removing it
    if sub == "config" and any(t.lower() == "core.hookspath" for t in texts):
        return [(hooks, "git config core.hooksPath")]
    if sub == "restore":
        staged_only = any(t in ("--staged", "-S") for t in texts) and not any(t in ("--worktree", "-W") for t in texts)
        positional, _ = _split_options(rest, {"-s", "--source"})
        return [] if staged_only else [(w, via) for w in positional]
    if sub == "checkout":
        if "--" in texts:
            return [(w, via) for w in rest[texts.index("--") + 1 :]]
        positional, _ = _split_options(rest, {"-b", "-B", "--orphan", "--conflict"})
        # Without `--` a name is a path when it exists on disk (`git checkout .`), else a branch.
        return [(w, via) for w in positional if not w.dynamic and (cwd / home(w.text)).exists()]
    top = Word(os.path.relpath(_checkout_top(cwd), cwd) + "/")
    if sub == "stash" and (not texts or texts[0] in ("push", "save", "pop", "apply", "-u", "-p", "-k", "-m")):
        if "--" in texts:
            return [(w, via) for w in rest[texts.index("--") + 1 :]]
        return [(top, via)]
    if sub == "reset" and "--hard" in texts:
        return [(top, via)]
    if (
        sub == "clean"
        and not any(t in ("-n", "--dry-run") for t in texts)
        and any(t == "--force" or (t.startswith("-") and not t.startswith("--") and "f" in t) for t in texts)
    ):
        positional, _ = _split_options(rest, {"-e", "--exclude"})
        return [(w, via) for w in positional] or [(Word("./"), via)]
    return []


HANDLERS = {
    "squad": _squad,
    "tee": _plain(set()),
    "sed": _in_place,
    "gsed": _in_place,
    "perl": _in_place,
    "mv": _copy_like(moves=True, takes_value={"-t", "--target-directory", "-S", "--suffix"}),
    "cp": _copy_like(moves=False, takes_value={"-t", "--target-directory", "-S", "--suffix"}),
    "ln": _copy_like(moves=False, takes_value={"-t", "--target-directory", "-S", "--suffix"}),
    "install": _copy_like(moves=False, takes_value={"-t", "--target-directory", "-S", "-m", "-o", "-g", "--suffix"}),
    "rm": _plain(set()),
    "rmdir": _plain(set()),
    "unlink": _plain(set()),
    "shred": _plain({"-n", "-s"}),
    "touch": _plain({"-d", "-r", "-t", "--date", "--reference"}),
    "mkdir": _plain({"-m", "--mode"}),
    "truncate": _plain({"-s", "-r", "--size", "--reference"}),
    "dd": _dd,
    "rsync": _rsync,
    "curl": _downloader("o", ("--output",)),
    "wget": _downloader("O", ("--output-document",), ("-P", "--directory-prefix")),
    "chmod": _chmod,
    "chown": _chmod,
    "git": _git,
    "find": _find,
}
