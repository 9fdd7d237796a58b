"""Best effort: the files a Bash command line would write, for ``squad guard``.

Not a shell. It reads what agents actually type (redirections, here-documents, ``tee``, ``sed -i``,
``mv``, ``cp``, ``rm``, ``touch``, ``patch`` / ``git apply``, ``rsync`` and friends, chained with
``&&``, ``||``, ``;``, ``|``, inside ``( ... )``, ``$( ... )`` or ``bash -c '...'``, after
``cd DIR``) and names the paths they hit; ``squad.bash_commands`` knows each command's arguments.
What it cannot know it leaves out: words built from ``$VARIABLES`` or command substitutions,
files written by programs (``python script.py``, ``npm install``), ``xargs`` input.
The git pre-commit hook is the layer that catches those.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from squad.bash_commands import HANDLERS, Target, Word, braces, git_globals, home, patched_targets, resolve

_SEPARATORS = {";", "&&", "||", "|", "|&", "&", "(", ")", "\n", "{", "}"}
# Longest first, so ">>" wins over ">".
_REDIRECTS = ("&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", ">", "<")
_WRITING_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>", ">&"}
_OPERATOR_START = set(";&|()<>\n")
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_GLOB_CHARS = set("*?[")

__all__ = ["Target", "Word", "write_targets"]


@dataclass(frozen=True)
class Op:
    text: str


@dataclass
class _Lexer:
    text: str
    pos: int = 0
    tokens: list[Word | Op] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)  # bodies of $(...) and `...`
    heredocs: list[tuple[str, bool, int]] = field(default_factory=list)  # delimiter, <<-, token index

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
        self.heredocs.append((word.text, strip_tabs, len(self.tokens)))
        self.tokens.append(word)

    def _skip_heredocs(self) -> None:
        """Read each pending here-document's lines; its text goes on its delimiter word."""
        while self.heredocs:
            delimiter, strip_tabs, index = self.heredocs.pop(0)
            lines = []
            while self.pos < len(self.text):
                end = self.text.find("\n", self.pos)
                line = self.text[self.pos : len(self.text) if end < 0 else end]
                self.pos = len(self.text) if end < 0 else end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                lines.append(line.lstrip("\t") if strip_tabs else line)
            token = self.tokens[index]
            if isinstance(token, Word):
                self.tokens[index] = replace(token, body="\n".join(lines) + "\n")

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
                yield from resolve(word, cwd, op)
        if not words:
            continue
        args = [
            replace(w, text=t) for w in _strip_prefixes(words) for t in (braces(w.text) if not w.dynamic else [w.text])
        ]
        if not args:
            continue
        name = PurePosixPath(args[0].text).name
        if name in ("cd", "pushd") and len(args) == 2 and not args[1].dynamic:
            cwd = Path(os.path.normpath(cwd / home(args[1].text)))
            continue
        if (
            name in ("bash", "sh", "zsh", "dash")
            and len(args) >= 3
            and args[1].text.startswith("-")
            and "c" in args[1].text
        ):
            yield from _scan(args[2].text, cwd, depth + 1)
            continue
        rest, here = args[1:], cwd
        if name == "git":
            rest, here = git_globals(rest, cwd)  # `git -C DIR -c k=v restore ...`
        if name == "patch" or (name == "git" and rest and rest[0].text == "apply"):
            yield from patched_targets(name, rest, _stdin(redirects), here)
            continue
        handler = HANDLERS.get(name)
        if handler is not None:
            for word, via in handler(name, rest, here):
                yield from resolve(word, here, via)
    for body in lexer.nested:
        yield from _scan(body, cwd, depth + 1)


def _stdin(redirects: list[tuple[str, Word]]) -> Word | None:
    """What the command reads on stdin: a ``< FILE`` word, or a here-document / here-string word."""
    found = None
    for op, word in redirects:
        if op == "<":
            found = word
        elif op in ("<<", "<<-", "<<<"):
            found = Word("", word.dynamic, body=word.body if op != "<<<" else word.text + "\n")
    return found


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
