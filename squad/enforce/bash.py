"""The files a Bash command line would write, for ``squad guard``: a walk of tree-sitter's bash tree.

tree-sitter-bash gives the whole tree (lists, pipelines, subshells, ``$( )`` and backquotes,
here-documents, every kind of quoting, ``$'...'`` included); this module walks it, follows ``cd``,
re-reads the scripts bash would run from a string (``bash -c``, ``sh -c``, ``eval``, ``find -exec
sh -c``, ``watch``, a here-document fed to a shell, backquotes inside backquotes) and hands each
simple command to ``squad.enforce.bash_commands``, which knows which of its arguments get written.

It fails closed. A word built from ``$VARIABLES`` or command output in a written position, a
command name that is a variable, ``xargs`` feeding a writer arguments squad cannot see, a shell
reading a script from a pipe, a line bash's grammar cannot read, nesting deeper than
``MAX_NESTING``, a brace expansion of more than ``MAX_BRACE_WORDS`` words, or a walk past its
deadline raise ``Unjudgeable``: the guard refuses the write, and says why. Read-only commands with
variables (``echo $HOME``, ``cat $F``) are not writes and pass. What programs write
(``python gen.py``, ``npm install``) stays out of reach, as ``docs/enforcement.md`` says.

tree-sitter is imported only here, and this module only when a Bash call is judged.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from squad.enforce.bash_commands import (
    HANDLERS,
    Target,
    Unjudgeable,
    Word,
    braces,
    git_globals,
    home,
    hooks_bypassed,
    link_writes,
    patched_targets,
    resolve,
)

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

__all__ = ["MAX_NESTING", "Target", "Word", "write_targets"]

MAX_NESTING = 8  # eval / bash -c / backquotes / find -exec sh -c inside each other
MAX_TREE_DEPTH = 200  # syntax nodes inside each other (a Python recursion per level)
MAX_COMMAND_BYTES = 256 * 1024
DEFAULT_BUDGET_S = 3.0

_WRITING_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "yash", "busybox-sh"}
_WRAPPERS = {
    "sudo", "env", "command", "nohup", "time", "nice", "exec", "builtin", "stdbuf", "timeout", "doas",
    "busybox", "setsid", "ionice", "unbuffer", "chronic", "taskset", "caffeinate", "systemd-run",
}  # fmt: skip
# Options of wrappers that take a value (``sudo -u me``, ``nice -n 5``): the value is no command.
_WRAPPER_VALUES = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"}, "doas": {"-u", "-C"}, "env": {"-u", "-C", "-S"},
    "nice": {"-n"}, "ionice": {"-c", "-n", "-p"}, "stdbuf": {"-i", "-o", "-e"}, "timeout": {"-s", "-k"},
    "taskset": set(), "systemd-run": {"-p", "-u", "--unit"},
}  # fmt: skip
_PRODUCERS = {"echo", "printf"}  # literal text into a pipe: what `| sh` or `| xargs rm` reads is knowable
_OVERRIDE = "SQUAD_GUARD"
_PARSER: Parser | None = None


def _parser() -> Parser:
    global _PARSER  # noqa: PLW0603 (one parser per process: building it is the costly part)
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_bash

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _PARSER


@dataclass
class _Where:
    """The shell state a command sees: its folder (``known`` False after ``cd $X``), and stdin."""

    cwd: Path
    known: bool = True
    stdin: Word | None = None  # a here-document / here-string / ``< FILE`` word
    pipe_from: Node | None = None  # the command before ``|``


@dataclass
class _Scan:
    deadline: float
    out: list[Target] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # symlinks made earlier on the line: link -> target

    def tick(self, depth: int) -> None:
        if depth > MAX_TREE_DEPTH:
            raise Unjudgeable(f"command nests more than {MAX_TREE_DEPTH} levels: too complex to check")
        if time.monotonic() > self.deadline:
            raise Unjudgeable("command not judged within the guard's time budget: too complex to check")

    # -- scripts and nodes -------------------------------------------------------------------------

    def script(self, text: str, where: _Where, nesting: int) -> None:
        if nesting > MAX_NESTING:
            raise Unjudgeable(
                f"command nests more than {MAX_NESTING} levels of eval / sh -c / `...`: too complex to check"
            )
        data = text.encode("utf-8", "surrogateescape")
        if len(data) > MAX_COMMAND_BYTES:
            raise Unjudgeable(f"command longer than {MAX_COMMAND_BYTES // 1024} KiB: too complex to check")
        tree = _parser().parse(data)
        self.walk(tree.root_node, where, nesting, 0)

    def walk(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        self.tick(depth)
        kind = node.type
        if kind == "ERROR" or node.is_missing:
            snippet = node.text.decode(errors="replace")[:40] if node.text else ""
            raise Unjudgeable(f"bash syntax squad cannot read near {snippet!r}: split or simplify the command")
        if kind == "command":
            self.command(node, where, nesting, depth)
        elif kind == "file_redirect":
            self.redirect(node, where, nesting, depth)
        elif kind == "command_substitution" and node.text is not None and node.text.startswith(b"`"):
            self.script(_unbackquote(node.text.decode("utf-8", "surrogateescape")[1:-1]), _fresh(where), nesting + 1)
        elif kind in ("subshell", "command_substitution", "process_substitution", "function_definition"):
            inner = _fresh(where)  # a `cd` inside does not move the commands after it
            for child in node.children:
                self.walk(child, inner, nesting, depth + 1)
        elif kind == "redirected_statement":
            self.redirected(node, where, nesting, depth)
        elif kind == "pipeline":
            before: Node | None = None
            for child in node.children:
                if child.type in ("|", "|&"):
                    continue
                self.walk(child, replace(where, stdin=None, pipe_from=before) if before else where, nesting, depth + 1)
                before = child
        elif kind == "variable_assignment":
            self.assignment(node, where, nesting, depth)
        elif kind == "heredoc_body":
            self.heredoc_body(node, where, nesting, depth)
        else:
            for child in node.children:
                self.walk(child, where, nesting, depth + 1)

    def redirected(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        body = node.child_by_field_name("body")
        stdin = where.stdin
        for child in node.children:
            if child.type == "heredoc_redirect":
                stdin = _heredoc_word(child)
            elif child.type == "herestring_redirect":
                words = [self.word(c, where, nesting, depth) for c in child.named_children]
                stdin = Word("", any(w.dynamic for w in words), body=" ".join(w.text for w in words) + "\n")
            elif child.type == "file_redirect" and _operator(child) == "<":
                dest = child.child_by_field_name("destination")
                stdin = self.word(dest, where, nesting, depth) if dest is not None else stdin
        if body is not None and body.type != "command":
            # tree-sitter hangs `a && b > f` on the whole list: the redirect is b's, after a's `cd`.
            self.walk(body, where, nesting, depth + 1)
            for child in node.children:
                if child != body:
                    self.walk(child, where, nesting, depth + 1)
            return
        for child in node.children:  # redirections first, as bash opens them before the command runs
            if child.type == "file_redirect":
                self.walk(child, where, nesting, depth + 1)
        for child in node.children:
            if child.type != "file_redirect":
                self.walk(child, replace(where, stdin=stdin) if child == body else where, nesting, depth + 1)

    def heredoc_body(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        start = next((c for c in node.parent.children if c.type == "heredoc_start"), None) if node.parent else None
        if start is not None and start.text is not None and re.search(rb"['\"\\]", start.text):
            return  # <<'EOF': the text is data, nothing in it runs
        for child in node.named_children:
            if child.type != "heredoc_content":
                self.walk(child, where, nesting, depth + 1)
        text = (node.text or b"").decode("utf-8", "surrogateescape")
        if "`" in text:
            # tree-sitter leaves backquotes in an unquoted here-document as text; bash runs them.
            if len(re.findall(r"(?<!\\)`", text)) % 2:
                raise Unjudgeable("unbalanced backquote in a here-document: too complex to check")
            for inner in re.findall(r"(?<!\\)`((?:[^`\\]|\\.)*)`", text, re.DOTALL):
                self.script(_unbackquote(inner), _fresh(where), nesting + 1)

    def assignment(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        name = node.child_by_field_name("name")
        if name is not None and name.text == _OVERRIDE.encode():
            raise Unjudgeable(f"{_OVERRIDE} switches squad's guard off: only a person sets it, outside the agent")
        for child in node.children:
            if child != name:
                self.walk(child, where, nesting, depth + 1)

    def redirect(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        op = _operator(node)
        dest = node.child_by_field_name("destination")
        if dest is None:
            return
        word = self.word(dest, where, nesting, depth)
        if op not in _WRITING_REDIRECTS:
            return
        if op == ">&" and not word.dynamic and (word.text.isdigit() or word.text == "-"):
            return  # 2>&1: a descriptor, not a file
        self.emit(word, where, op)

    # -- commands ----------------------------------------------------------------------------------

    def command(self, node: Node, where: _Where, nesting: int, depth: int) -> None:
        words: list[Word] = []
        for child in node.children:
            if child.type == "variable_assignment":
                self.assignment(child, where, nesting, depth + 1)
            elif child.type == "command_name":
                name = child.named_children[0] if child.named_children else child
                words.extend(self.words(name, where, nesting, depth))
            elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                self.walk(child, where, nesting, depth + 1)
            elif child.is_named and child.type != "comment":
                words.extend(self.words(child, where, nesting, depth))
        if words:
            self.run(words, where, nesting)

    def run(self, words: list[Word], where: _Where, nesting: int) -> None:
        """Judge one simple command, given its expanded words."""
        for w in words:
            if w.text.startswith(_OVERRIDE + "=") or (w.text == _OVERRIDE and words[0].text in ("export", "env")):
                raise Unjudgeable(f"{_OVERRIDE} switches squad's guard off: only a person sets it, outside the agent")
        args = _strip_prefixes(words)
        if not args:
            return
        if args[0].dynamic:
            raise Unjudgeable(f"cannot tell which command {args[0].text or '$...'!r} runs: write its name literally")
        name = PurePosixPath(args[0].text).name
        rest = args[1:]
        if name in ("cd", "pushd"):
            self.cd(rest, where)
        elif name in _SHELLS:
            self.shell(name, rest, where, nesting)
        elif name == "eval":
            self.run_string(rest, where, nesting, "eval")
        elif name == "watch":
            positional = [w for w in rest if not w.text.startswith("-")]
            self.run_string(positional, _fresh(where), nesting, "watch")
        elif name == "xargs":
            self.xargs(rest, where, nesting)
        elif name == "find":
            self.find(rest, where, nesting)
        elif name == "patch" or (name == "git" and _git_sub(rest, where.cwd) == "apply"):
            here = where.cwd
            if name == "git":
                rest, here = git_globals(rest, where.cwd)
            self.need_known(where, name)
            self.out.extend(patched_targets(name, rest, where.stdin, here))
        else:
            self.handled(name, rest, where)

    def handled(self, name: str, rest: list[Word], where: _Where) -> None:
        here = where.cwd
        if name == "git":
            bypassed = hooks_bypassed(rest, where.cwd)
            if bypassed is not None:
                self.emit(bypassed, where, "git -c core.hooksPath")
            rest, here = git_globals(rest, where.cwd)  # `git -C DIR -c k=v restore ...`
        if name in ("ln", "cp"):
            for link, destination in link_writes(name, rest, here).symlinks:
                self.links[link] = destination
        handler = HANDLERS.get(name)
        if handler is not None:
            for word, via in handler(name, rest, here):
                self.emit(word, replace(where, cwd=here), via)

    def cd(self, rest: list[Word], where: _Where) -> None:
        positional = [w for w in rest if not (w.text.startswith("-") and w.text != "-")]
        if not positional:
            where.cwd = Path(home("~"))
        elif positional[0].dynamic or positional[0].text == "-":
            where.known = False  # relative writes after this cannot be placed
        else:
            where.cwd = Path(os.path.normpath(where.cwd / home(positional[0].text)))

    def shell(self, name: str, rest: list[Word], where: _Where, nesting: int) -> None:
        i, command_mode = 0, False
        while i < len(rest) and rest[i].text.startswith(("-", "+")) and rest[i].text not in ("-", "--"):
            text = rest[i].text
            if not text.startswith("--") and "c" in text[1:]:
                command_mode = True
            if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 1
            i += 1
        if i < len(rest) and rest[i].text == "--":
            i += 1
        if command_mode:
            if i >= len(rest):
                return
            self.run_string([rest[i]], _fresh(where), nesting, f"{name} -c")
        elif i < len(rest):
            return  # `bash script.sh`: a program; what it writes is out of reach (documented)
        else:
            text = self.stdin_text(where, f"{name} reading commands")
            self.script(text, _fresh(where), nesting + 1)

    def stdin_text(self, where: _Where, what: str) -> str:
        """What the command reads on stdin, when it is knowable; else ``Unjudgeable``."""
        if where.stdin is not None and where.stdin.body is not None and not where.stdin.dynamic:
            return where.stdin.body
        if where.pipe_from is not None:
            produced = self.produced(where.pipe_from, where)
            if produced is not None:
                return produced
        if where.stdin is None and where.pipe_from is None:
            return ""  # the terminal: nothing an agent's tool call can type
        raise Unjudgeable(f"{what} from a pipe or file squad cannot read: too complex to check")

    def produced(self, node: Node, where: _Where) -> str | None:
        """The text a literal ``echo`` / ``printf`` / ``cat <<EOF`` writes into a pipe, else None."""
        if node.type == "redirected_statement":
            body = node.child_by_field_name("body")
            heredoc = next((c for c in node.children if c.type == "heredoc_redirect"), None)
            if body is not None and heredoc is not None and body.type == "command":
                word = _heredoc_word(heredoc)
                return word.body if not word.dynamic and _command_name(body) == "cat" else None
            return None
        if node.type != "command":
            return None
        scratch = _Scan(self.deadline)
        words: list[Word] = []
        for child in node.named_children:
            if child.type in ("command_name", "word", "raw_string", "string", "concatenation", "number"):
                target = child.named_children[0] if child.type == "command_name" and child.named_children else child
                words.extend(scratch.words(target, where, MAX_NESTING, 0))
            else:
                return None
        if not words or words[0].text not in _PRODUCERS or any(w.dynamic for w in words):
            return None
        args = [w.text for w in words[1:]]
        if words[0].text == "echo":
            args = [a for a in args if a not in ("-n", "-e", "-E")]
            return " ".join(args) + "\n"
        return "\n".join(args[1:]) + "\n" if args and args[0] in ("%s\\n", "%s\n") else (args[0] if args else "")

    def run_string(self, words: list[Word], where: _Where, nesting: int, what: str) -> None:
        if any(w.dynamic for w in words):
            raise Unjudgeable(f"{what} runs a string built from variables or command output: too complex to check")
        self.script(" ".join(w.text for w in words), where, nesting + 1)

    def xargs(self, rest: list[Word], where: _Where, nesting: int) -> None:
        takes = {"-a", "-d", "-E", "-e", "-I", "-i", "-L", "-l", "-n", "-P", "-s", "--arg-file", "--delimiter"}
        i, replace_str = 0, None
        while i < len(rest) and rest[i].text.startswith("-"):
            text = rest[i].text
            if text in ("-I", "-i") and i + 1 < len(rest):
                replace_str = rest[i + 1].text
            i += 2 if text in takes else 1
        command = rest[i:] or [Word("echo")]
        produced = self.produced(where.pipe_from, where) if where.pipe_from is not None else None
        if produced is not None and where.stdin is None:
            items = [Word(t) for t in produced.split()]
            if replace_str:
                for item in items:
                    self.run([Word(w.text.replace(replace_str, item.text), w.dynamic) for w in command], where, nesting)
            else:
                self.run(command + items, where, nesting)
            return
        name = PurePosixPath(command[0].text).name
        if command[0].dynamic or name in HANDLERS or name in _SHELLS or name in ("eval", "xargs", "find", "patch"):
            raise Unjudgeable(f"xargs gives {name} arguments squad cannot see: list the files in the command")
        self.run(command, where, nesting)

    def find(self, rest: list[Word], where: _Where, nesting: int) -> None:
        """``find``: ``-delete`` and ``-fprint`` via its handler; each ``-exec CMD ... {} ;`` judged as
        CMD run on every file under the starting folders (``{}`` standing for ``START/``)."""
        self.handled("find", rest, where)
        starts = []
        for word in rest:
            if word.text.startswith(("-", "(", "!")):
                break
            starts.append(word)
        starts = starts or [Word(".")]
        i = 0
        while i < len(rest):
            if rest[i].text in ("-exec", "-execdir", "-ok", "-okdir"):
                j = i + 1
                while j < len(rest) and rest[j].text not in (";", "+", "\\;"):
                    j += 1
                segment = rest[i + 1 : j]
                for start in starts:
                    folder = start.text.rstrip("/") + "/"
                    run = [
                        replace(w, text=w.text.replace("{}", folder), dynamic=w.dynamic or start.dynamic)
                        for w in segment
                    ]
                    if run:
                        self.run(run, where, nesting)
                i = j
            i += 1

    # -- words -------------------------------------------------------------------------------------

    def words(self, node: Node, where: _Where, nesting: int, depth: int) -> list[Word]:
        """A word node after brace expansion (several words), globbing flagged, ``~`` expanded."""
        pattern, dynamic = self.pattern(node, where, nesting, depth + 1)
        out = []
        for each in braces(pattern) if "{" in pattern else [pattern]:
            text = _unescape(each)
            if each.startswith("~") and not dynamic:
                text = home(text)
            out.append(Word(text, dynamic, bool(re.search(r"(?<!\\)[*?[]", each))))
        return out

    def word(self, node: Node, where: _Where, nesting: int, depth: int) -> Word:
        found = self.words(node, where, nesting, depth)
        if len(found) == 1:
            return found[0]
        raise Unjudgeable("a redirection to a brace expansion of several words (bash refuses it too)")

    def pattern(self, node: Node, where: _Where, nesting: int, depth: int) -> tuple[str, bool]:
        """``node`` as text in which quoted characters are backslash-escaped (so braces and globs
        apply only to unquoted ones), and whether any part of it is unknowable here."""
        self.tick(depth)
        kind = node.type
        raw = node.text.decode("utf-8", "surrogateescape") if node.text is not None else ""
        if kind in ("word", "number", "brace_expression", "special_variable_name", "variable_name"):
            return _word_pattern(raw), False
        if kind == "raw_string":
            return _escape_all(raw[1:-1]), False
        if kind == "ansi_c_string":
            return _escape_all(_ansi_c(raw[2:-1])), False
        if kind in ("string", "translated_string"):
            return self.double_quoted(node, where, nesting, depth)
        if kind == "concatenation":
            parts = [self.pattern(c, where, nesting, depth + 1) for c in node.children]
            return "".join(p for p, _ in parts), any(d for _, d in parts)
        # $VAR, ${...}, $(...), `...`, $((...)), <(...): unknowable; commands inside still run.
        self.walk(node, where, nesting, depth + 1)
        return "", True

    def double_quoted(self, node: Node, where: _Where, nesting: int, depth: int) -> tuple[str, bool]:
        data = node.text or b""
        base = node.start_byte + (2 if data.startswith(b'$"') else 1)
        end = node.end_byte - 1
        out: list[str] = []
        dynamic = False
        position = base
        for child in node.children:
            if child.start_byte < base or child.end_byte > end:
                continue  # the quote tokens
            out.append(_dq_literal(data[position - node.start_byte : child.start_byte - node.start_byte]))
            if child.type == "string_content":
                out.append(_dq_literal(child.text or b""))
            else:
                _, _ = self.pattern(child, where, nesting, depth + 1)
                dynamic = True
            position = child.end_byte
        out.append(_dq_literal(data[position - node.start_byte : end - node.start_byte]))
        return "".join(out), dynamic

    # -- targets -----------------------------------------------------------------------------------

    def need_known(self, where: _Where, what: str) -> None:
        if not where.known:
            raise Unjudgeable(f"cannot tell which folder an earlier `cd` moved to, so where {what} writes")

    def emit(self, word: Word, where: _Where, via: str) -> None:
        if word.dynamic:
            shown = word.text or "$..."
            raise Unjudgeable(
                f"cannot tell where {via} writes: {shown!r} is built from variables or command output;"
                " name the file literally"
            )
        if not word.text:
            return
        if not where.known and not home(word.text).startswith("/"):
            self.need_known(where, via)
        for target in resolve(word, where.cwd, via):
            self.add(target)

    def add(self, target: Target, hops: int = 0) -> None:
        self.out.append(target)
        if hops > 40:
            raise Unjudgeable("symbolic links made on this line point into each other (a loop)")
        path = target.path.rstrip("/")
        for link, destination in list(self.links.items()):
            if path == link and target.via in ("rm", "unlink", "mv", "ln", "ln -s", "cp -s"):
                continue  # these change the link itself
            if path == link or path.startswith(link + "/"):
                self.add(Target(destination + target.path[len(link) :], target.via), hops + 1)


def write_targets(command: str, cwd: Path, *, deadline: float | None = None) -> list[Target]:
    """The paths ``command`` would write, made absolute against ``cwd`` (which ``cd`` moves).

    Raises ``Unjudgeable`` when that cannot be known in advance (see the module docstring).
    """
    if "\0" in command:  # no path can hold one, and bash would cut the line short there
        raise Unjudgeable("the command holds a NUL byte: send it without one")
    scan = _Scan(deadline if deadline is not None else time.monotonic() + DEFAULT_BUDGET_S)
    scan.script(command, _Where(cwd), 0)
    return list(dict.fromkeys(scan.out))


# -- helpers -------------------------------------------------------------------------------------


def _fresh(where: _Where) -> _Where:
    return _Where(where.cwd, where.known)


def _operator(node: Node) -> str:
    for child in node.children:
        if not child.is_named:
            return (child.text or b"").decode()
    return ""


def _command_name(node: Node) -> str | None:
    name = node.child_by_field_name("name")
    return (name.text or b"").decode("utf-8", "replace") if name is not None else None


def _git_sub(rest: list[Word], cwd: Path) -> str | None:
    sub, _ = git_globals(rest, cwd)
    return sub[0].text if sub else None


def _heredoc_word(node: Node) -> Word:
    """A here-document as a stdin word: its text, dynamic when unquoted and holding expansions."""
    start = next((c for c in node.children if c.type == "heredoc_start"), None)
    body = next((c for c in node.children if c.type == "heredoc_body"), None)
    quoted = start is not None and start.text is not None and bool(re.search(rb"['\"\\]", start.text))
    text = (body.text or b"").decode("utf-8", "surrogateescape") if body is not None else ""
    strip = any(c.type == "<<-" for c in node.children)
    if strip:
        text = "\n".join(line.lstrip("\t") for line in text.split("\n"))
    dynamic = not quoted and body is not None and any(c.type != "heredoc_content" for c in body.named_children)
    return Word("", dynamic, body=text)


def _word_pattern(raw: str) -> str:
    """An unquoted word as it stands: its backslash escapes already mark literal characters."""
    return raw.replace("\\\n", "")


def _escape_all(text: str) -> str:
    return re.sub(r"([\\{}*?\[\],~])", r"\\\1", text)


def _dq_literal(data: bytes) -> str:
    """Literal text inside double quotes: ``\\"`` ``\\\\`` ``\\$`` ``\\``` unescaped, the rest literal."""
    text = data.decode("utf-8", "surrogateescape")
    text = re.sub(r"\\([\"\\$`])", r"\1", text).replace("\\\n", "")
    return _escape_all(text)


def _unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern, flags=re.DOTALL)


def _unbackquote(body: str) -> str:
    """The command inside backquotes: ``\\``` ``\\\\`` ``\\$`` lose their backslash, one level down."""
    return re.sub(r"\\([`\\$])", r"\1", body)


_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "v": "\v"}


def _ansi_c(body: str) -> str:
    """Bash's ``$'...'`` escapes: ``\\n``, ``\\xHH``, ``\\NNN``, ``\\uHHHH``, ``\\cX``, quotes."""

    def one(match: re.Match[str]) -> str:
        esc = match.group(1)
        if esc[0] in _ANSI:
            return _ANSI[esc[0]]
        if esc[0] in "xuU":
            return chr(int(esc[1:], 16)) if len(esc) > 1 else "\\" + esc
        if esc[0] in "01234567":
            return chr(int(esc, 8) & 0xFF)
        if esc[0] == "c" and len(esc) == 2:
            return chr(ord(esc[1]) & 0x1F)
        return esc

    return re.sub(
        r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", one, body, flags=re.DOTALL
    )


_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
# Shell words after which a command starts: `if x; then rm y; fi` (the grammar keeps most apart).
_KEYWORDS = {"!", "then", "do", "else"}


def _strip_prefixes(words: list[Word]) -> list[Word]:
    """Drop ``VAR=value`` assignments and wrappers such as ``sudo``, ``env``, ``nohup``, ``timeout 5``."""
    i = 0
    while i < len(words):
        text = words[i].text
        if (_ASSIGNMENT_RE.match(text) and not words[i].dynamic) or text in _KEYWORDS:
            i += 1
        elif text in _WRAPPERS and not words[i].dynamic:
            i += 1
            takes = _WRAPPER_VALUES.get(text, set())
            while i < len(words) and (words[i].text.startswith("-") or _ASSIGNMENT_RE.match(words[i].text)):
                i += 2 if words[i].text in takes else 1
            if text == "timeout" and i < len(words):
                i += 1  # the duration
        else:
            break
    return words[i:]
