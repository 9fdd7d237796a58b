#!/usr/bin/env bash
# The parallel-test example: set up a squad in a temporary copy and show its status.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here"/. "$work"/
cd "$work"
git init -q
squad init
squad update --agent 1 --status ACTIVE --task "T1 Dashboard layout" --progress 0/5
squad status
