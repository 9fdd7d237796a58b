"""Real etcd servers for the tests: one member or a cluster of three, on 127.0.0.1 with free ports
and a temporary data folder each. Needs the ``etcd`` binary (Debian's etcd-server, which .ci/run
installs)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ETCD = shutil.which("etcd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    cluster: str = ""
    state: str = "new"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> None:
        assert ETCD is not None
        log = (self.data_dir.parent / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [
                ETCD,
                "--name",
                self.name,
                "--data-dir",
                str(self.data_dir),
                "--listen-client-urls",
                f"http://127.0.0.1:{self.client_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{self.client_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{self.peer_port}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{self.peer_port}",
                "--initial-cluster",
                self.cluster,
                "--initial-cluster-state",
                self.state,
                "--initial-cluster-token",
                "squad-tests",
                "--heartbeat-interval",
                "50",
                "--election-timeout",
                "500",
            ],
            stdout=log,
            stderr=log,
            env={**os.environ, "ETCD_UNSUPPORTED_ARCH": os.environ.get("ETCD_UNSUPPORTED_ARCH", "")},
        )
        self.state = "existing"  # a restart rejoins the cluster it made

    def stop(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.proc = None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.endpoint}/health", timeout=1) as reply:
                return bool(json.loads(reply.read()).get("health") in ("true", True))
        except (OSError, ValueError):
            return False


class Cluster:
    def __init__(self, root: Path, size: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.members = [Member(f"m{i}", free_port(), free_port(), root / f"m{i}.etcd") for i in range(size)]
        cluster = ",".join(f"{m.name}=http://127.0.0.1:{m.peer_port}" for m in self.members)
        for m in self.members:
            m.cluster = cluster

    @property
    def url(self) -> str:
        return "etcd://" + ",".join(m.endpoint for m in self.members)

    def start(self, timeout: float = 60.0) -> None:
        for m in self.members:
            m.start()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 60.0, members: list[Member] | None = None) -> None:
        deadline = time.monotonic() + timeout
        for m in members or [m for m in self.members if m.proc is not None]:
            while not m.healthy():
                if m.proc is not None and m.proc.poll() is not None:
                    log = (m.data_dir.parent / f"{m.name}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"etcd {m.name} exited ({m.proc.returncode}):\n{log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"etcd {m.name} is not healthy after {timeout:g}s")
                time.sleep(0.05)

    def stop(self) -> None:
        for m in self.members:
            with contextlib.suppress(Exception):
                m.stop()
