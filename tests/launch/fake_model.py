"""A stand-in for an agent CLI's model API on 127.0.0.1, answering with scripted tool calls.

Three wire formats, one script: the Anthropic Messages API (``POST /v1/messages``, streamed as
Claude Code asks for it), the OpenAI Responses API (``POST /v1/responses``, Codex CLI) and OpenAI
chat completions (``POST /v1/chat/completions``, aider through litellm). A script is a list of
steps; the step a request gets is the number of tool results it already carries, so the agent
CLI's own loop walks the script one tool call at a time. Every request is kept in ``requests`` for
the test to read (the prompt the agent got, the tool results it saw).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Shell:
    command: str


@dataclass(frozen=True)
class WriteFile:
    path: str  # absolute
    content: str


@dataclass(frozen=True)
class Say:
    text: str


Step = Shell | WriteFile | Say


@dataclass
class FakeModel:
    """``steps`` for tool-calling CLIs; ``replies`` (raw assistant texts, one per request) for aider."""

    steps: list[Step] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    server: ThreadingHTTPServer | None = None

    # -- life ------------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a daemon thread; the base URL (no path)."""
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def do_GET(self) -> None:  # model lists, health checks
                self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}], "models": []})

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.split("?")[0]
                with model._lock:
                    model.requests.append((path, body))
                if path.endswith("/messages/count_tokens"):
                    self._json({"input_tokens": 10})
                elif path.endswith("/messages"):
                    model._anthropic(self, body)
                elif path.endswith("/responses"):
                    model._responses(self, body)
                elif path.endswith("/chat/completions"):
                    model._chat(self, body)
                else:
                    self._json({})

            def _json(self, data: Any, status: int = 200) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{next(self._ids)}"

    # -- what was asked --------------------------------------------------------------------

    def texts(self) -> str:
        """Everything the agent CLIs sent, as one string (prompts, tool results)."""
        with self._lock:
            return "\n".join(json.dumps(body) for _path, body in self.requests)

    # -- Anthropic Messages API ------------------------------------------------------------

    def _anthropic(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        blocks: list[dict[str, Any]]
        if "Bash" not in tools:  # a side request (titles, summaries, quota): a short answer
            blocks = [{"type": "text", "text": "ok"}]
        else:
            done = sum(
                1
                for m in body.get("messages", [])
                if isinstance(m.get("content"), list)
                for b in m["content"]
                if isinstance(b, dict) and b.get("type") == "tool_result"
            )
            step = self.steps[done] if done < len(self.steps) else Say("All done.")
            blocks = [self._anthropic_block(step)]
        stop = "tool_use" if blocks[0]["type"] == "tool_use" else "end_turn"
        message = {
            "id": self.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake-model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        }
        if not body.get("stream"):
            _send_json(handler, {**message, "content": blocks, "stop_reason": stop})
            return
        events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": message})]
        for index, block in enumerate(blocks):
            if block["type"] == "tool_use":
                start = {**block, "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            else:
                start = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            events += [
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
                ("content_block_stop", {"type": "content_block_stop", "index": index}),
            ]
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        _send_sse(handler, events)

    def _anthropic_block(self, step: Step) -> dict[str, Any]:
        if isinstance(step, Shell):
            args: dict[str, Any] = {"command": step.command, "description": "squad step"}
            return {"type": "tool_use", "id": self.next_id("toolu"), "name": "Bash", "input": args}
        if isinstance(step, WriteFile):
            args = {"file_path": step.path, "content": step.content}
            return {"type": "tool_use", "id": self.next_id("toolu"), "name": "Write", "input": args}
        return {"type": "text", "text": step.text}

    # -- OpenAI Responses API (Codex CLI) --------------------------------------------------

    def _responses(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        items = body.get("input") if isinstance(body.get("input"), list) else []
        done = sum(1 for i in items if isinstance(i, dict) and str(i.get("type", "")).endswith("call_output"))
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
        step = self.steps[done] if done < len(self.steps) else Say("All done.")
        item = self._responses_item(step, tools)
        rid = self.next_id("resp")
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        events = [
            ("response.created", {"type": "response.created", "response": {"id": rid}}),
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.completed", {"type": "response.completed", "response": {"id": rid, "usage": usage}}),
        ]
        _send_sse(handler, events)

    def _responses_item(self, step: Step, tools: list[dict[str, Any]]) -> dict[str, Any]:
        names = {str(t.get("name")): t for t in tools}
        call_id = self.next_id("call")
        if isinstance(step, Shell):
            if "exec_command" in names:
                return _function_call("exec_command", {"cmd": step.command}, call_id)
            return _function_call("shell", {"command": ["bash", "-lc", step.command]}, call_id)
        if isinstance(step, WriteFile):
            lines = "".join(f"+{line}\n" for line in step.content.splitlines())
            patch = f"*** Begin Patch\n*** Add File: {step.path}\n{lines}*** End Patch\n"
            tool = names.get("apply_patch")
            if tool is not None and tool.get("type") == "custom":
                return {"type": "custom_tool_call", "name": "apply_patch", "input": patch, "call_id": call_id}
            if tool is not None:
                return _function_call("apply_patch", {"input": patch}, call_id)
            # no apply_patch tool offered: write through the shell, as a model would
            command = f"cat > {json.dumps(step.path)} <<'EOF'\n{step.content}\nEOF"
            return self._responses_item(Shell(command), tools) | {"call_id": call_id}
        return {
            "type": "message",
            "role": "assistant",
            "id": self.next_id("msg"),
            "content": [{"type": "output_text", "text": step.text, "annotations": []}],
        }

    # -- OpenAI chat completions (aider) ---------------------------------------------------

    def _chat(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        asked = sum(1 for p, _b in self.requests if p.endswith("/chat/completions")) - 1
        text = self.replies[asked] if asked < len(self.replies) else "Done."
        cid = self.next_id("chatcmpl")
        model = body.get("model", "fake-model")
        if not body.get("stream"):
            _send_json(
                handler,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                },
            )
            return
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": 0, "model": model}
        lines = [
            {
                **chunk,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}],
            },
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        payload = "".join(f"data: {json.dumps(line)}\n\n" for line in lines) + "data: [DONE]\n\n"
        _send_raw_sse(handler, payload.encode())


def _function_call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "name": name, "arguments": json.dumps(args), "call_id": call_id}


def _send_json(handler: BaseHTTPRequestHandler, data: Any) -> None:
    payload = json.dumps(data).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _send_sse(handler: BaseHTTPRequestHandler, events: list[tuple[str, dict[str, Any]]]) -> None:
    payload = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()
    _send_raw_sse(handler, payload)


def _send_raw_sse(handler: BaseHTTPRequestHandler, payload: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
