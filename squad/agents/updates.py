"""Posting to the protocol from code: status updates and handoff requests, as whole-block appends."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from datetime import datetime

from squad.agents.roster import Member, resolve
from squad.atomic import append_lines
from squad.errors import SquadError
from squad.paths import SquadPaths, checked_path
from squad.protocol.comm import (
    Progress,
    Status,
    format_handoff,
    format_status_update,
    parse_progress,
    parse_status,
)
from squad.protocol.times import now as utcnow


def status_from_text(text: str) -> Status:
    try:
        status = parse_status(text)
    except ValueError:
        status = None
    if status is None:
        choices = ", ".join(s.value for s in Status)
        raise SquadError(f"unknown status {text!r}: use one of {choices}")
    return status


def progress_from_text(text: str) -> Progress:
    """``--progress``: strictly ``DONE/TOTAL`` (``3/5``, ``3 of 5``) or a percentage up to 100%."""
    value = text.strip()
    ok = re.fullmatch(r"\d+\s*(?:/|of)\s*[1-9]\d*|(?:100|\d{1,2})\s*%", value, re.IGNORECASE)
    progress = parse_progress(value) if ok else None
    if progress is None or progress.done > progress.total:
        raise SquadError(f"bad progress {text!r}: use DONE/TOTAL such as 3/5, or a percentage such as 60%")
    return progress


@dataclass(frozen=True)
class Evidence:
    command: str
    exit_code: int


def run_evidence(command: str, cwd: str | None = None) -> Evidence:
    """Run ``command`` (the proof behind a DONE) and record its exit code."""
    try:
        result = subprocess.run(shlex.split(command), cwd=cwd, check=False, capture_output=True)
    except (OSError, ValueError) as exc:
        raise SquadError(f"cannot run evidence command {command!r}: {exc}") from None
    return Evidence(command, result.returncode)


def post_update(
    paths: SquadPaths,
    agent: str | None,
    *,
    status: Status,
    task: str | None = None,
    progress: Progress | None = None,
    files: tuple[str, ...] = (),
    next_step: str | None = None,
    waiting_for: str | None = None,
    alternative: str | None = None,
    evidence: Evidence | None = None,
    at: datetime | None = None,
) -> Member:
    member = resolve(paths, agent)
    block = format_status_update(
        agent=member.name,
        status=status,
        at=at or utcnow(),
        task=task,
        progress=progress,
        files=tuple(checked_path(f, paths) for f in files),
        next_step=next_step,
        waiting_for=waiting_for,
        alternative=alternative,
        evidence=evidence.command if evidence else None,
        evidence_exit=evidence.exit_code if evidence else None,
    )
    append_lines(member.comm, block)
    if status not in (Status.DONE, Status.FAILED):  # a sign of life renews the holder's leases;
        from squad.leases.locks import renew_all  # DONE and FAILED make them stale instead

        renew_all(paths, member.name, at or utcnow())
    return member


def post_handoff(
    paths: SquadPaths,
    agent: str | None,
    *,
    to: str,
    file: str,
    status: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> tuple[Member, Member]:
    sender = resolve(paths, agent)
    receiver = resolve(paths, to)
    if receiver.id.number == sender.id.number:
        raise SquadError(f"{sender.name} cannot hand off to itself")
    block = format_handoff(
        from_agent=sender.name,
        to_agent=receiver.name,
        file=checked_path(file, paths),
        at=at or utcnow(),
        status=status,
        reason=reason,
    )
    append_lines(sender.comm, block)
    return sender, receiver
