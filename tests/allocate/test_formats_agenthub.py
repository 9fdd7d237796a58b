"""ai-agent-hub PRDs (Task Breakdown / Stream N), written in its style, with its traps."""

from __future__ import annotations

from pathlib import Path

from squad.allocate.formats import detect
from tests.allocate.formats_helpers import agent_of, allocate_file, assert_no_junk_streams, tasks_of

FEED = """\
# Product Requirements: Team Activity Feed

## Overview
A live feed of what the team did today, with summaries written by a model.

## Feature Requirements

### 1. Feed UI
- **Feed View**: a scrolling list of events
- **Files to Create**:
  - `/web/components/Feed.tsx`
  - `/web/hooks/useFeed.ts`

### 2. Events API
- **GET /api/events**: latest events
- **Files to Create**:
  - `/server/routes/events.py`
  - `/server/models/event.py`

### 3. Summaries
- **Files to Create**:
  - `/ml/summarise/daily.py`

## Shared Dependencies

### Type Definitions (Sequential Access Required)
- `/shared/types/event.ts`: the event payload

### Configuration (Read-Only During Parallel)
- `/config/feed.config.js`: feature flags

## Implementation Constraints

### Parallel Execution Rules
1. Web, Server and Summaries can work simultaneously
2. Shared types must be created first (by web)
3. Each domain works in its own directory

### Dependencies
- Web depends on: Shared types
- Summaries depends on: Server events model

## Success Criteria
- [ ] Feed updates within a second
- [ ] Summaries are readable

## Task Breakdown

### Stream 1: Web (3 tasks)
1. Build the feed component
2. Add the event row with avatars
3. Write the useFeed hook for live updates
<!-- 4. A cancelled idea kept in a comment -->

### Stream 2: Server (3 tasks)
1. Define the event model
2. Implement the events route
3. Add pagination to the events route

### Stream 3: Summaries (1 tasks)
1. Summarise a day of events
2. Rank the summaries by relevance

## Estimated Timeline
- Sequential execution: 5 hours
- Parallel execution: 2 hours
"""

ANALYTICS = """\
# Product Requirements: Usage Analytics

## Feature Requirements

### 1. Frontend Charts
- **Files to Create**:
  - `/frontend/components/Charts.tsx`

### 2. Backend API Endpoints
- **Files to Create**:
  - `/backend/api/usage.py`

### 3. ML-Powered Forecasts
- **Files to Create**:
  - `/ml/models/forecast.py`

## Implementation Constraints

### Parallel Execution Rules
1. Frontend, Backend, and ML can work simultaneously
2. Configuration files are read-only during implementation

### Dependencies
- Frontend depends on: Shared types
- ML depends on: Backend API structure

## Task Breakdown

### Stream 1: Frontend (2 tasks)
1. Create the chart layout
2. Add the range picker

### Stream 2: Backend (3 tasks)
1. Design the usage schema
2. Implement REST API endpoints
3. Build the CSV export

### Stream 3: ML (2 tasks)
1. Train the forecast model
2. Serve forecasts
"""


def test_ai_agent_hub_streams_features_and_stream_dependencies(tmp_path: Path) -> None:
    assert detect(FEED) == "ai-agent-hub"
    allocation = allocate_file(tmp_path, "feature-prd.md", FEED)
    deps = tasks_of(allocation)
    assert sorted(deps) == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2"]  # rules are not tasks
    assert deps["3.1"] == deps["3.2"] == ("2.1",)  # "Server events model" is the event model task
    assert {a.id: a.owns for a in allocation.agents} == {
        "agent-1-frontend": ("web/",),
        "agent-2-backend": ("server/",),
        "agent-3-ml": ("ml/",),
    }
    assert allocation.matrix.rule("shared/types/event.ts").access == "SEQUENTIAL"
    assert allocation.matrix.rule("config/feed.config.js").access == "READONLY"
    notes = "\n".join(allocation.read_notes)
    assert "'Shared types'" in notes  # names no task, stream or phase: a note, not an error
    assert "says 1 tasks and lists 2" in notes
    assert_no_junk_streams(allocation)


def test_ai_agent_hub_twelve_task_shape(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "prd.md", ANALYTICS, agents=3)
    assert [(a.role, len(a.tasks)) for a in allocation.agents] == [("frontend", 2), ("backend", 3), ("ml", 2)]
    deps = tasks_of(allocation)
    assert deps["3.1"] == deps["3.2"] == ("2.2",)  # ML after the backend's API task
    assert agent_of(allocation)["2.2"] == "agent-2-backend"
    assert_no_junk_streams(allocation)
