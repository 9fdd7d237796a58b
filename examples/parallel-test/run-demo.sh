#!/usr/bin/env bash
# The parallel-test example, played by three scripted agents in a temporary copy of this folder.
#
#   run-demo.sh              run the story, then print the final status and the event log summary
#   run-demo.sh --watch      the same, with the live monitor in this terminal while it plays
#   run-demo.sh --keep       leave the temporary repository behind and print where it is
#   run-demo.sh --svg FILE   also save the monitor's last frame as a picture (docs/monitor.svg)
set -euo pipefail

watch=0 keep=0 svg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --watch) watch=1 ;;
    --keep) keep=1 ;;
    --svg) svg="$(cd "$(dirname "${2:?--svg needs a file}")" && pwd)/$(basename "$2")"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run-demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

here="$(cd "$(dirname "$0")" && pwd)"
SQUAD_BIN="$(command -v squad)" || { echo "run-demo.sh: squad is not installed (pip install -e .)" >&2; exit 2; }
PYTHON="$(dirname "$SQUAD_BIN")/python"
[ -x "$PYTHON" ] || PYTHON=python3
export SQUAD_BIN
work="$(mktemp -d "${TMPDIR:-/tmp}/squad-demo.XXXXXX")"
monitor=""
cleanup() {
  if [ -n "$monitor" ]; then kill "$monitor" 2>/dev/null || true; wait "$monitor" 2>/dev/null || true; fi
  (cd "$work" && "$SQUAD_BIN" daemon stop >/dev/null 2>&1) || true
  if [ "$keep" -eq 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cp -r "$here"/. "$work"/
cd "$work"
rm -f run-demo.sh
git init -q -b main
git -c user.name=demo -c user.email=demo@example.invalid add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -q -m "sample repository"

echo "== squad allocate feature-prd.md"
"$SQUAD_BIN" allocate feature-prd.md --agents 3 | sed -n '1,9p'

# Demo timings: agents go idle after 4 s of silence and stale after 8 s (defaults: 10 and 30 min).
"$PYTHON" - <<'PY'
from pathlib import Path
p = Path(".squad/config.yaml")
text = p.read_text()
for key, value in {"agent_idle_s": 4, "agent_stale_s": 8, "reassign_after_s": 8}.items():
    text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines()) + "\n"
p.write_text(text)
PY

"$SQUAD_BIN" daemon start

echo "== three agents at work"
pids=()
for role in frontend backend ml; do
  case $role in frontend) id=agent-1-frontend ;; backend) id=agent-2-backend ;; ml) id=agent-3-ml ;; esac
  AGENT_ID=$id "$PYTHON" fake_agent.py "$role" &
  pids+=($!)
done

if [ "$watch" -eq 1 ]; then
  "$SQUAD_BIN" monitor &  # beside the daemon it only watches; stopped when the story is over
  monitor=$!
fi
# The ML agent goes silent: the coordinator breaks its lease and moves its tasks to the agents that
# are still there, which finish them; then the ML agent is started again and finds nothing left.
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" -ne 0 ]; then echo "run-demo.sh: an agent script failed" >&2; exit 1; fi
AGENT_ID=agent-3-ml "$PYTHON" fake_agent.py ml-again
for _ in $(seq 1 120); do  # the daemon's next cycle: status.md shows every task done (a busy machine: up to 30 s)
  if grep -q "12/12" .squad/reports/status.md 2>/dev/null; then break; fi
  sleep 0.25
done

if [ -n "$monitor" ]; then
  sleep 2; kill "$monitor" 2>/dev/null || true; wait "$monitor" 2>/dev/null || true; monitor=""
fi
if [ -n "$svg" ]; then
  "$PYTHON" - "$svg" <<'PY'
import sys
from rich.console import Console
from squad.coordinator.daemon import Coordinator
from squad.views.monitor import Extras, render
from squad.paths import require_paths
from squad.protocol.times import now
with Coordinator(require_paths(), enforce=False) as coordinator:  # only watches: the daemon enforces
    snap = coordinator.engine.snapshot(now())
console = Console(record=True, width=100, file=open("/dev/null", "w"), force_terminal=True)
console.print(render(snap, Extras(mode="demo"), width=100))
console.save_svg(sys.argv[1], title="squad monitor")
print(f"saved {sys.argv[1]}")
PY
fi

echo
echo "== squad status"
NO_COLOR=1 "$SQUAD_BIN" status
echo "== event log summary (.squad/logs/events.jsonl)"
"$PYTHON" - <<'PY'
import collections, json
events = [json.loads(line) for line in open(".squad/logs/events.jsonl") if line.strip()]
for kind, count in sorted(collections.Counter(e["kind"] for e in events).items()):
    print(f"  {kind:<20} {count}")
for e in events:
    if e["kind"] in ("violation_attempt", "violation", "lock_broken", "agent_stale", "reassign", "handoff", "lock_wait"):
        print(f"  {e['kind']:<20} {e.get('agent') or '':<18} {e.get('path') or ''}  {e.get('detail', '')[:70]}")
PY
