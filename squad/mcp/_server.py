"""``squad mcp``: one agent's tools over MCP's stdio transport, on the SDK's low-level ``Server``.

The low-level server, not ``MCPServer``: the tool list is written by hand (``_tools.TOOLS``), so it
stays as short as the agent's context deserves, and every error, bad arguments included, is the
CLI's own one line rather than a validation report. Each call runs on a worker thread: the
library blocks (the lease mutex, file reads), and the event loop must keep serving meanwhile.

A lost lease is told once, and never dropped silently: a client that subscribed to
``squad://leases`` is sent ``notifications/resources/updated`` the moment the watcher sees the loss
(the resource then names it); any other client reads a ``notice:`` line first in its next result.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.to_thread
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from squad.errors import SquadError
from squad.mcp._resources import LEASES_URI, VIEWS, read_view
from squad.mcp._tools import TOOLS, AgentSession
from squad.paths import SquadPaths
from squad.protocol.times import now as utcnow

_log = logging.getLogger("squad.mcp")

WATCH_S = 2.0  # how often the watcher looks for a lost lease (a survey of locks/: a few stat calls)

INSTRUCTIONS = (
    "squad coordinates the agents working on this repository. Call status first; check before writing "
    "a shared path and lock it; post update when you start or finish a task; unlock when done."
)


class _Subscriber:
    """The session that subscribed to the leases resource, if any (stdio: one client, one session)."""

    def __init__(self) -> None:
        self.session: Any = None


def build_server(session: AgentSession, subscriber: _Subscriber) -> Server[Any]:
    """The MCP server for ``session``'s agent: its tools, its resources, the leases subscription."""
    tools = [types.Tool(name=t.name, description=t.description, input_schema=t.schema) for t in TOOLS]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        reply = await anyio.to_thread.run_sync(session.call, params.name, params.arguments)
        return types.CallToolResult(content=[types.TextContent(type="text", text=reply.text)], is_error=reply.is_error)

    async def list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(uri=v.uri, name=v.name, description=v.description, mime_type=v.mime_type) for v in VIEWS
            ]
        )

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            text = await anyio.to_thread.run_sync(read_view, session, uri)
        except SquadError as exc:
            raise MCPError(types.INVALID_PARAMS, f"squad: error: {exc.render()}") from None
        except Exception as exc:  # a bug: one line for the client, the traceback on stderr
            _log.exception("reading %s failed", uri)
            raise MCPError(
                types.INTERNAL_ERROR, f"squad: error: internal error ({type(exc).__name__}: {exc})"
            ) from None
        mime = next((v.mime_type for v in VIEWS if v.uri == uri), "text/plain")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=text, mime_type=mime)])

    async def subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        if str(params.uri) == LEASES_URI:
            subscriber.session = ctx.session  # notifications go out on the connection, after this request
        return types.EmptyResult()

    async def unsubscribe(ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        if str(params.uri) == LEASES_URI:
            subscriber.session = None
        return types.EmptyResult()

    return Server(
        "squad",
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
    )


async def watch_leases(session: AgentSession, subscriber: _Subscriber, interval_s: float = WATCH_S) -> None:
    """Every ``interval_s``, look for leases the agent lost; tell a subscribed client now, and
    keep the notices for the next tool result otherwise."""
    while True:
        await anyio.sleep(interval_s)
        try:
            notices = await anyio.to_thread.run_sync(session.reckon, utcnow())
        except SquadError as exc:  # an unreadable event log or lease: the next tool call says it
            _log.info("lease check failed: %s", exc.render())
            continue
        if not notices:
            continue
        client = subscriber.session
        if client is not None:
            try:
                await client.send_resource_updated(LEASES_URI)
                continue
            except Exception:  # the client went away mid-send: fall back to the next result
                _log.info("could not notify the client of a lost lease", exc_info=True)
        session.tell_later(notices)


async def serve_stdio(paths: SquadPaths, agent: str, *, watch_s: float = WATCH_S) -> None:
    session = AgentSession(paths, agent)
    subscriber = _Subscriber()
    server = build_server(session, subscriber)
    async with stdio_server() as (read_stream, write_stream), anyio.create_task_group() as group:
        group.start_soon(watch_leases, session, subscriber, watch_s)
        await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()  # the client closed stdin: stop watching, exit


def serve(paths: SquadPaths, agent: str) -> None:
    """Serve ``agent``'s tools on stdin/stdout until the client closes them."""
    # stdout is the protocol: anything logged goes to stderr, which clients keep as the server's log.
    logging.basicConfig(level=logging.WARNING, format="squad mcp: %(message)s")
    anyio.run(serve_stdio, paths, agent)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("squad-agents")
    except PackageNotFoundError:
        return "0"
