"""The tolerant, incremental comm-file reader on what agents really write."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squad.protocol.comm import (
    CommParser,
    CommReader,
    HandoffRequest,
    Notice,
    Progress,
    Status,
    StatusUpdate,
    format_handoff,
    format_status_update,
    parse_comm_text,
    read_comm,
)

T = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)


def updates(text: str) -> list[StatusUpdate]:
    return [b for b in parse_comm_text(text) if isinstance(b, StatusUpdate)]


def last(text: str) -> StatusUpdate:
    found = updates(text)
    assert found, "no status block found"
    return found[-1]


# -- the variations agents write -----------------------------------------------------------------


def test_design_example_three_blocks() -> None:
    text = """## Status Update [2026-11-22T14:05:00Z]
Status: ACTIVE
Current Task: T1 Create dashboard component
Files Modified:
  - frontend/Dashboard.tsx (created)
Progress: 3/5 tasks complete
Next: API integration

## Handoff Request [2026-11-22T14:30:00Z]
FROM: agent-1-frontend
TO: agent-2-backend
FILE: shared/types/metrics.ts
STATUS: Ready for backend implementation

## Status Update [2026-11-22T14:40:00Z]
Status: BLOCKED
Waiting for: shared/types/user.ts
Alternative: Working on tests instead
"""
    blocks = parse_comm_text(text)
    assert [type(b) for b in blocks] == [StatusUpdate, HandoffRequest, StatusUpdate]
    first, handoff, third = blocks
    assert isinstance(first, StatusUpdate) and isinstance(handoff, HandoffRequest) and isinstance(third, StatusUpdate)
    assert first.status is Status.ACTIVE
    assert first.task == "T1 Create dashboard component"
    assert first.files_modified == ("frontend/Dashboard.tsx",)
    assert first.progress == Progress(3, 5)
    assert first.next == "API integration"
    assert first.at == T
    assert handoff.from_agent == "agent-1-frontend" and handoff.to_agent == "agent-2-backend"
    assert handoff.file == "shared/types/metrics.ts"
    assert handoff.status == "Ready for backend implementation"
    assert third.status is Status.BLOCKED
    assert third.waiting_for is not None and third.waiting_for.path == "shared/types/user.ts"
    assert third.alternative == "Working on tests instead"


def test_bare_timestamp_in_heading_and_minutes_only() -> None:
    u = last("## Status Update 2026-11-22 14:05 UTC\nStatus: ACTIVE\n")
    assert u.at == T


def test_offset_timestamp_is_converted_to_utc() -> None:
    u = last("## Status Update [2026-11-22T16:05:00+02:00]\nStatus: ACTIVE\n")
    assert u.at == T


def test_keys_in_any_case() -> None:
    u = last("## Update\nSTATUS: active\ncurrent task: T2 build API\nPROGRESS: 2/4\n")
    assert u.status is Status.ACTIVE and u.task == "T2 build API" and u.progress == Progress(2, 4)


def test_bold_keys_both_styles() -> None:
    u = last("## Update\n**Status:** ACTIVE\n**Current Task**: T3 charts\n__Progress:__ 1 of 2\n")
    assert u.status is Status.ACTIVE and u.task == "T3 charts" and u.progress == Progress(1, 2)


def test_bulleted_keys() -> None:
    u = last("## Update\n- Status: DONE\n* Current Task: T5\n+ Progress: 5/5\n")
    assert u.status is Status.DONE and u.task == "T5" and u.progress == Progress(5, 5)


def test_progress_out_of_and_percent() -> None:
    assert last("Status: ACTIVE\nProgress: 2 out of 7 tasks\n").progress == Progress(2, 7)
    assert last("Status: ACTIVE\nProgress: 40%\n").progress == Progress(40, 100, percent=True)


def test_prose_between_blocks_is_ignored() -> None:
    text = """# Agent 2 comm log

I started by reading the plan. The backend has a lot to do.

## Status Update [2026-11-22T14:05:00Z]
Status: ACTIVE
Some thoughts about the schema: it needs an index.
Current Task: B1 schema

Random prose again, with a colon: here.
"""
    u = last(text)
    assert u.status is Status.ACTIVE and u.task == "B1 schema"


def test_crlf_line_endings() -> None:
    u = last("## Status Update [2026-11-22T14:05:00Z]\r\nStatus: ACTIVE\r\nCurrent Task: T1\r\n")
    assert u.status is Status.ACTIVE and u.task == "T1" and u.at == T


def test_leading_front_matter_block() -> None:
    text = "---\nagent: agent-3-ml\nrole: ml\n---\n\n## Status Update [2026-11-22T14:05:00Z]\nStatus: WAITING\n"
    parser = CommParser()
    parser.feed(text)
    assert [b.status for b in parser.blocks() if isinstance(b, StatusUpdate)] == [Status.WAITING]
    assert parser.identity is not None and str(parser.identity) == "agent-3-ml"


def test_half_written_last_line_is_ignored_until_complete(tmp_path: Path) -> None:
    comm = tmp_path / "agent-1-comm.md"
    comm.write_text("## Status Update [2026-11-22T14:05:00Z]\nStatus: ACTIVE\nStatus: DO")
    reader = CommReader(comm)
    assert [u.status for u in reader.read().updates] == [Status.ACTIVE]
    with comm.open("a") as handle:
        handle.write("NE\n")
    assert [u.status for u in reader.read().updates] == [Status.ACTIVE, Status.DONE]


def test_literal_timestamp_placeholder_is_not_an_error() -> None:
    text = "## Status Update [timestamp]\nStatus: [ACTIVE|BLOCKED|COMPLETE]\nCurrent Task: [task]\n"
    parser = CommParser()
    parser.feed(text)
    assert not parser.problems
    assert not [b for b in parser.blocks() if isinstance(b, StatusUpdate) and b.status]


def test_status_update_format_template_then_real_update() -> None:
    text = """## Status Update Format
Status: [ACTIVE|BLOCKED|COMPLETE]
Progress: [X/Y tasks]

## Status Update [2026-11-22T14:05:00Z]
Status: COMPLETE
Tasks Completed: 5/5
Files Created: 8
Files Modified: 3
"""
    u = last(text)
    assert u.status is Status.DONE
    assert u.progress == Progress(5, 5)
    assert u.files_created == () and u.files_modified == ()  # counts, never file names


def test_session_mode_words_and_aliases() -> None:
    for word, status in [
        ("READY", Status.STARTING),
        ("pending", Status.STARTING),
        ("in_progress", Status.ACTIVE),
        ("in progress", Status.ACTIVE),
        ("completed", Status.DONE),
        ("blocked", Status.BLOCKED),
        ("error", Status.FAILED),
        ("IDLE", Status.WAITING),
        ("✅ COMPLETE", Status.DONE),
        ("BLOCKED (waiting on types)", Status.BLOCKED),
    ]:
        assert last(f"Status: {word}\n").status is status, word


def test_blocker_report_with_holder_and_leading_slash() -> None:
    text = """## Blocker Report
Waiting Since: 2026-11-22 14:05 UTC
Blocker: File /shared/types/user.ts locked by agent-2
Fallback: write the unit tests first
"""
    u = last(text)
    assert u.status is Status.BLOCKED  # known by its keys and heading, no Status line
    assert u.at == T
    assert u.waiting_for is not None
    assert u.waiting_for.path == "shared/types/user.ts"
    assert u.waiting_for.holder == "agent-2"
    assert u.alternative == "write the unit tests first"


def test_completion_report_heading() -> None:
    u = last("## Completion Report\nTimestamp: 2026-11-22T14:05:00Z\nTasks Completed: 4/4\n")
    assert u.status is Status.DONE and u.at == T


def test_h1_preamble_with_initialized() -> None:
    text = "# Agent 2 (backend) Communication\nInitialized: 2026-11-22T14:05:00Z\nStatus: READY\n"
    parser = CommParser()
    parser.feed(text)
    blocks = parser.blocks()
    assert isinstance(blocks[0], StatusUpdate) and blocks[0].status is Status.STARTING and blocks[0].at == T
    assert parser.identity is not None and parser.identity.number == 2


def test_request_transfer_ownership_is_a_handoff() -> None:
    text = """## Request
Request: Transfer ownership of /shared/types/analytics.ts
From: agent-1-frontend-ui-developer
To: agent-3
Reason: types are final
"""
    (h,) = parse_comm_text(text)
    assert isinstance(h, HandoffRequest)
    assert h.file == "shared/types/analytics.ts"
    assert h.from_agent == "agent-1-frontend-ui-developer" and h.to_agent == "agent-3"
    assert h.reason == "types are final"


def test_coordinator_block_in_agent_file_is_a_notice() -> None:
    text = "## Message\nFROM: Coordinator\nTO: agent-1\nStatus: please release the lock\n"
    (n,) = parse_comm_text(text)
    assert isinstance(n, Notice)


def test_status_inside_handoff_is_not_the_agent_status() -> None:
    text = "Status: ACTIVE\n\n## Handoff Request [2026-11-22T14:30:00Z]\nFROM: agent-1\nTO: agent-2\nFILE: a.ts\nSTATUS: BLOCKED on review\n"
    assert [u.status for u in updates(text)] == [Status.ACTIVE]


def test_blocks_without_headings_split_on_repeated_status() -> None:
    text = "Status: ACTIVE\nCurrent Task: T1\n\nStatus: DONE\nCurrent Task: T2\n"
    assert [(u.status, u.task) for u in updates(text)] == [(Status.ACTIVE, "T1"), (Status.DONE, "T2")]


def test_horizontal_rules_separate_blocks_and_emoji_keys() -> None:
    text = "📊 Status: ACTIVE\n---\n✅ Status: DONE\n➡️ Next: review\n"
    assert [u.status for u in updates(text)] == [Status.ACTIVE, Status.DONE]
    assert updates(text)[-1].next == "review"


def test_files_inline_comma_list_and_backticks() -> None:
    u = last("Status: ACTIVE\nFiles Modified: `frontend/a.tsx`, /frontend/b.tsx, ./frontend/c.css\n")
    assert u.files_modified == ("frontend/a.tsx", "frontend/b.tsx", "frontend/c.css")


def test_unknown_status_is_a_problem_naming_file_and_line() -> None:
    parser = CommParser(".squad/comms/agent-2-comm.md")
    parser.feed("## Status Update [2026-11-22T14:05:00Z]\nCurrent Task: x\n\nStatus: ACTIV\n")
    assert [str(p) for p in parser.problems] == [".squad/comms/agent-2-comm.md:4: unknown status 'ACTIV'"]


def test_code_fences_do_not_hide_real_updates() -> None:
    text = "## Status Update [2026-11-22T14:05:00Z]\n```\nStatus: ACTIVE\nCurrent Task: T1\n```\n"
    assert last(text).status is Status.ACTIVE


# -- writers round-trip -----------------------------------------------------------------------------


def test_status_writer_round_trips() -> None:
    block = format_status_update(
        agent="agent-1-frontend",
        status=Status.BLOCKED,
        at=T,
        task="T4 WebSocket hook",
        progress=Progress(3, 5),
        files=("frontend/a.ts", "frontend/b.ts"),
        next_step="charts",
        waiting_for="shared/types/metrics.ts locked by agent-2-backend",
        alternative="tests",
        evidence="pytest -q",
        evidence_exit=0,
    )
    assert "\nStatus: BLOCKED\n" in block and "\nCurrent Task: T4 WebSocket hook\n" in block  # column 0
    u = last(block)
    assert u == StatusUpdate(
        line=u.line,
        at=T,
        status=Status.BLOCKED,
        task="T4 WebSocket hook",
        progress=Progress(3, 5),
        files_modified=("frontend/a.ts", "frontend/b.ts"),
        next="charts",
        waiting_for=u.waiting_for,
        alternative="tests",
        evidence="pytest -q",
        evidence_exit=0,
        agent="agent-1-frontend",
    )
    assert u.waiting_for is not None
    assert (u.waiting_for.path, u.waiting_for.holder) == ("shared/types/metrics.ts", "agent-2-backend")


def test_handoff_writer_round_trips() -> None:
    block = format_handoff(
        from_agent="agent-1-frontend", to_agent="agent-3-ml", file="shared/types/a.ts", at=T, status="Ready"
    )
    (h,) = parse_comm_text(block)
    assert h == HandoffRequest(h.line, T, "agent-1-frontend", "agent-3-ml", "shared/types/a.ts", "Ready", None)


# -- incremental reading ----------------------------------------------------------------------------

SAMPLE = """# Agent 1 Communication
Initialized: 2026-11-22T14:00:00Z
Status: READY

## Status Update [2026-11-22T14:05:00Z]
**Status:** ACTIVE
- Current Task: T1 layout
Files Modified:
  - frontend/Layout.tsx (created)
  - frontend/App.tsx
Progress: 1 of 5

Some prose: between blocks.

## Handoff Request [2026-11-22T14:30:00Z]
FROM: agent-1-frontend
TO: agent-2-backend
FILE: /shared/types/metrics.ts
STATUS: Ready

Status: BLOCKED
Blocker: File /shared/types/user.ts locked by agent-2
Alternative Task: tests

## Status Update [2026-11-22T15:00:00Z]
Status: COMPLETE
Tasks Completed: 5/5
"""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(SAMPLE.encode())), max_size=8))
def test_incremental_reads_equal_a_full_read(tmp_path_factory: pytest.TempPathFactory, cuts: list[int]) -> None:
    data = SAMPLE.encode()
    comm = tmp_path_factory.mktemp("inc") / "agent-1-comm.md"
    comm.write_bytes(b"")
    reader = CommReader(comm)
    written = 0
    for cut in sorted(cuts):
        with comm.open("ab") as handle:
            handle.write(data[written:cut])
        written = max(written, cut)
        reader.read()
    with comm.open("ab") as handle:
        handle.write(data[written:])
    incremental = reader.read()
    full = read_comm(comm)
    assert incremental.blocks == full.blocks
    assert incremental.identity == full.identity
    assert len(full.updates) == 4 and len(full.handoffs) == 1


def test_reader_parses_only_appended_bytes(tmp_path: Path) -> None:
    comm = tmp_path / "agent-1-comm.md"
    comm.write_text(SAMPLE)
    reader = CommReader(comm)
    reader.read()
    offset = reader.offset
    assert offset == len(SAMPLE.encode())
    with comm.open("a") as handle:
        handle.write("\nStatus: FAILED\n")
    lines_before = reader.parser.line_no
    result = reader.read()
    assert reader.parser.line_no - lines_before == 2  # only the appended lines were fed
    assert result.updates[-1].status is Status.FAILED


def test_reader_rereads_a_rewritten_file(tmp_path: Path) -> None:
    comm = tmp_path / "agent-1-comm.md"
    comm.write_text(SAMPLE)
    reader = CommReader(comm)
    assert reader.read().updates[-1].status is Status.DONE
    # An agent with an edit tool rewrites the file shorter: a shrink.
    comm.write_text("Status: ACTIVE\n")
    assert [u.status for u in reader.read().updates] == [Status.ACTIVE]
    # Same length, changed prefix, same inode.
    with comm.open("r+") as handle:
        handle.write("Status: FAILED\n")
    assert [u.status for u in reader.read().updates] == [Status.FAILED]
    # Replaced by rename (new inode), longer.
    tmp = tmp_path / "x.tmp"
    tmp.write_text("Status: WAITING\nStatus: BLOCKED\n")
    os.replace(tmp, comm)
    assert [u.status for u in reader.read().updates] == [Status.WAITING, Status.BLOCKED]


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    assert read_comm(tmp_path / "nope.md").blocks == ()


def test_identity_from_a_handoff_sender_gives_the_role() -> None:
    parser = CommParser()
    parser.feed(
        "# Agent 2 (backend)\n\n## Handoff Request [timestamp]\nFROM: agent-2-backend-system-architect\nTO: agent-1\nFILE: a.ts\n"
    )
    assert parser.identity is not None and str(parser.identity) == "agent-2-backend-system-architect"


def test_bold_title_lines_open_blocks_and_bold_key_lines_stay_keys() -> None:
    text = (
        "**Status Update [2026-11-22T14:05:00Z]**\n**Status: ACTIVE**\n**Files Modified:**\n- frontend/a.tsx\n\n"
        "**Status Update [2026-11-22T15:05:00Z]**\nStatus: DONE\n"
    )
    first, second = updates(text)
    assert (first.status, first.at, first.files_modified) == (Status.ACTIVE, T, ("frontend/a.tsx",))
    assert second.status is Status.DONE and second.at == datetime(2026, 11, 22, 15, 5, tzinfo=UTC)
