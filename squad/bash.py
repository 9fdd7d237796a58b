"""Best effort: the files a Bash command line would write, for ``squad guard``.

Not a shell. It reads what agents actually type (redirections, ``tee``, ``sed -i``, ``mv``, ``cp``,
``rm``, ``touch``, ``mkdir`` and friends, chained with ``&&``, ``||``, ``;``, ``|``, inside
``( ... )``, ``$( ... )`` or ``bash -c '...'``, after ``cd DIR``) and names the paths they hit.
What it cannot know it leaves out: words built from ``$VARIABLES`` or command substitutions,
files written by programs (``python script.py``, ``npm install``), ``find -delete``, ``xargs``.
The git pre-commit hook is the layer that catches those.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_SEPARATORS = {";", "&&", "||", "|", "|&", "&", "(", ")", "\n", "{", "}"}
# Longest first, so ">>" wins over ">".
_REDIRECTS = ("&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", ">", "<")
_WRITING_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>", ">&"}
_OPERATOR_START = set(";&|()<>\n")
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Word:
    text: str
    dynamic: bool = False  # holds $VAR, $(...) or `...`: its value is unknowable here
    globbing: bool = False  # holds an unquoted * ? [


@dataclass(frozen=True)
class Op:
    text: str


_Handler = Callable[[str, list["Word"], Path], list[tuple["Word", str]]]


@dataclass(frozen=True)
class Target:
    """A path a command would write: as written, resolved against the command's working directory."""

    path: str
    via: str  # what writes it: ">", "tee", "sed -i", "rm", ...


@dataclass
class _Lexer:
    text: str
    pos: int = 0
    tokens: list[Word | Op] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)  # bodies of $(...) and `...`
    heredocs: list[tuple[str, bool]] = field(default_factory=list)

    def run(self) -> None:
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in " \t\r":
                self.pos += 1
            elif c == "\\" and text.startswith("\\\n", self.pos):
                self.pos += 2
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif c == "\n":
                self.tokens.append(Op("\n"))
                self.pos += 1
                self._skip_heredocs()
            elif self._redirect():
                continue
            elif c in _OPERATOR_START or (c in "{}" and self._alone()):
                two = text[self.pos : self.pos + 2]
                op = two if two in ("&&", "||", "|&", ";;") else c
                self.tokens.append(Op(";" if op == ";;" else op))
                self.pos += len(op)
            else:
                self.tokens.append(self._word())

    def _alone(self) -> bool:
        """``{`` and ``}`` are grouping words only when they stand alone."""
        after = self.text[self.pos + 1 : self.pos + 2]
        return after in ("", " ", "\t", "\n", ";")

    def _redirect(self) -> bool:
        match = re.match(r"\d*", self.text[self.pos :])
        digits = match.group(0) if match else ""
        rest = self.text[self.pos + len(digits) :]
        for op in _REDIRECTS:
            if rest.startswith(op):
                self.tokens.append(Op(op))
                self.pos += len(digits) + len(op)
                if op in ("<<", "<<-"):
                    self._heredoc_word(strip_tabs=op == "<<-")
                return True
        return False

    def _heredoc_word(self, *, strip_tabs: bool) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1
        word = self._word()
        self.tokens.append(word)
        self.heredocs.append((word.text, strip_tabs))

    def _skip_heredocs(self) -> None:
        while self.heredocs:
            delimiter, strip_tabs = self.heredocs.pop(0)
            while self.pos < len(self.text):
                end = self.text.find("\n", self.pos)
                line = self.text[self.pos : len(self.text) if end < 0 else end]
                self.pos = len(self.text) if end < 0 else end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break

    def _word(self) -> Word:
        text, n = self.text, len(self.text)
        out: list[str] = []
        dynamic = globbing = False
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n" or c in _OPERATOR_START:
                break
            if c == "\\":
                out.append(text[self.pos + 1 : self.pos + 2])
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                end = n if end < 0 else end
                out.append(text[self.pos + 1 : end])
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                while self.pos < n and text[self.pos] != '"':
                    ch = text[self.pos]
                    if ch == "\\" and self.pos + 1 < n and text[self.pos + 1] in '"\\$`\n':
                        out.append(text[self.pos + 1])
                        self.pos += 2
                        continue
                    if ch in "$`":
                        dynamic = True
                        if text.startswith("$(", self.pos) or ch == "`":
                            out.append(self._substitution())
                            continue
                    out.append(ch)
                    self.pos += 1
                self.pos += 1
            elif c in {"$", "`"}:
                dynamic = True
                if text.startswith("$(", self.pos) or c == "`":
                    out.append(self._substitution())
                else:
                    out.append(c)
                    self.pos += 1
            else:
                if c in _GLOB_CHARS:
                    globbing = True
                out.append(c)
                self.pos += 1
        return Word("".join(out), dynamic, globbing)

    def _substitution(self) -> str:
        """Consume ``$( ... )`` or a backquoted command; keep its body to scan it too."""
        text = self.text
        if text[self.pos] == "`":
            end = text.find("`", self.pos + 1)
            end = len(text) if end < 0 else end
            self.nested.append(text[self.pos + 1 : end])
            self.pos = end + 1
            return ""
        depth, i, quote = 0, self.pos + 1, ""
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        self.nested.append(text[self.pos + 2 : i])
        self.pos = i + 1
        return ""


def _simple_commands(tokens: list[Word | Op]) -> Iterator[tuple[list[Word], list[tuple[str, Word]]]]:
    words: list[Word] = []
    redirects: list[tuple[str, Word]] = []
    pending: str | None = None
    for token in tokens:
        if isinstance(token, Op) and token.text in _SEPARATORS:
            yield words, redirects
            words, redirects, pending = [], [], None
        elif isinstance(token, Op):
            pending = token.text
        elif pending is not None:
            redirects.append((pending, token))
            pending = None
        else:
            words.append(token)
    yield words, redirects


def write_targets(command: str, cwd: Path) -> list[Target]:
    """The paths ``command`` would write, made absolute against ``cwd`` (which ``cd`` moves)."""
    return list(_scan(command, cwd, depth=0))


def _scan(command: str, cwd: Path, depth: int) -> Iterator[Target]:
    if depth > 4:
        return
    lexer = _Lexer(command)
    lexer.run()
    for words, redirects in _simple_commands(lexer.tokens):
        for op, word in redirects:
            if op in _WRITING_REDIRECTS and not (op == ">&" and (word.text.isdigit() or word.text == "-")):
                yield from _resolve(word, cwd, op)
        if not words:
            continue
        args = _strip_prefixes(words)
        if not args:
            continue
        name = PurePosixPath(args[0].text).name
        if name in ("cd", "pushd") and len(args) == 2 and not args[1].dynamic:
            cwd = Path(os.path.normpath(cwd / _home(args[1].text)))
            continue
        if (
            name in ("bash", "sh", "zsh", "dash")
            and len(args) >= 3
            and args[1].text.startswith("-")
            and "c" in args[1].text
        ):
            yield from _scan(args[2].text, cwd, depth + 1)
            continue
        handler = _HANDLERS.get(name)
        if handler is not None:
            for word, via in handler(name, args[1:], cwd):
                yield from _resolve(word, cwd, via)
    for body in lexer.nested:
        yield from _scan(body, cwd, depth + 1)


_WRAPPERS = {"sudo", "env", "command", "nohup", "time", "nice", "exec", "builtin", "stdbuf", "timeout", "doas"}
# Shell words after which a command starts: `if x; then rm y; fi`, `while ...; do ...; done`.
_KEYWORDS = {"if", "then", "else", "elif", "while", "until", "do", "!"}


def _strip_prefixes(words: list[Word]) -> list[Word]:
    """Drop ``VAR=value`` assignments and wrappers such as ``sudo``, ``env``, ``nohup``, ``timeout 5``."""
    i = 0
    while i < len(words):
        text = words[i].text
        if _ASSIGNMENT_RE.match(text) or text in _KEYWORDS:
            i += 1
        elif text in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].text.startswith("-") or _ASSIGNMENT_RE.match(words[i].text)):
                i += 2 if words[i].text in ("-u", "-g") and text in ("sudo", "doas") else 1
            if text == "timeout" and i < len(words):
                i += 1  # the duration
        else:
            break
    return words[i:]


def _resolve(word: Word, cwd: Path, via: str) -> Iterator[Target]:
    if word.dynamic or not word.text:
        return
    text = _home(word.text)
    if word.globbing:
        # glob.glob takes absolute patterns too, which Path.glob does not.
        matches = sorted(glob.glob(text, root_dir=cwd))  # noqa: PTH207
        if matches:
            for match in matches:
                yield Target(_absolute(match, cwd), via)
            return
    yield Target(_absolute(text, cwd), via)


def _home(text: str) -> str:
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


def _copy_like(*, moves: bool, takes_value: set[str]) -> _Handler:
    """``mv`` / ``cp`` / ``ln`` / ``install``: the destination (``DIR/name`` for a folder), and for ``mv`` the sources."""

    def handler(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
        positional, values = _split_options(args, takes_value)
        target_dir = values.get("-t") or values.get("--target-directory")
        no_target_dir = any(a.text in ("-T", "--no-target-directory") for a in args)
        if target_dir is not None:
            sources, dest = positional, target_dir
        elif len(positional) >= 2:
            sources, dest = positional[:-1], positional[-1]
        else:
            return []
        out = [(w, name) for w in sources] if moves else []
        into_folder = not no_target_dir and (
            target_dir is not None or dest.text.endswith("/") or len(sources) > 1 or _is_dir(dest, cwd)
        )
        if into_folder and not dest.dynamic:
            for src in sources:
                base = PurePosixPath(src.text.rstrip("/")).name
                if src.dynamic or src.globbing or not base:
                    out.append((dest, name))
                else:
                    out.append((Word(dest.text.rstrip("/") + "/" + base), name))
        else:
            out.append((dest, name))
        return out

    return handler


def _is_dir(word: Word, cwd: Path) -> bool:
    return not word.dynamic and (cwd / _home(word.text)).is_dir()


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
    """``find DIR ... -delete`` (or ``-exec rm``): every starting folder may lose files."""
    texts = [a.text for a in args]
    execs = [texts[i + 1] for i, t in enumerate(texts[:-1]) if t in ("-exec", "-execdir", "-ok", "-okdir")]
    if "-delete" not in texts and not any(PurePosixPath(e).name in _DELETERS for e in execs):
        return []
    starts = []
    for word in args:
        if word.text.startswith(("-", "(", "!")):
            break
        starts.append(Word(word.text.rstrip("/") + "/", word.dynamic, word.globbing))
    return [(w, f"{name} -delete") for w in starts or [Word("./")]]


_DELETERS = {"rm", "mv", "shred", "unlink", "truncate", "sed", "perl"}


def _dd(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    return [(Word(a.text[3:], a.dynamic, a.globbing), name) for a in args if a.text.startswith("of=")]


def _git(name: str, args: list[Word], cwd: Path) -> list[tuple[Word, str]]:
    """``git mv`` and ``git rm`` write like ``mv`` and ``rm``; other git commands are the git hook's business."""
    if not args:
        return []
    sub = args[0].text
    handler = _HANDLERS.get(sub) if sub in ("mv", "rm") else None
    return [(w, f"git {via}") for w, via in handler(sub, args[1:], cwd)] if handler else []


_HANDLERS = {
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
    "git": _git,
    "find": _find,
}
