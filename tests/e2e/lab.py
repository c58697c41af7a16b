"""A real JupyterLab on loopback, driven by headless Chromium, for the browser tests.

Everything here follows shared notes on running Lab and Chromium offline: its own config,
runtime, workspace and settings folders; no news pop-up; a browser that cannot reach the
internet; kernels shut down before the server stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import BlockingKernelClient

CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured and Path(configured).exists():
        return configured
    return next((c for c in CHROMIUM_CANDIDATES if Path(c).exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    runtime_dir: Path
    process: subprocess.Popen

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def open_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def kernel_for(self, notebook: str, timeout: float = 30) -> BlockingKernelClient:
        """A second client on the notebook's own kernel: reads the Python side back."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("/api/sessions"):
                if session["path"].endswith(notebook):
                    kernel_id = session["kernel"]["id"]
                    connection = self.runtime_dir / f"kernel-{kernel_id}.json"
                    if connection.exists():
                        client = BlockingKernelClient(connection_file=str(connection))
                        client.load_connection_file()
                        client.start_channels()
                        client.wait_for_ready(timeout=20)
                        return client
            time.sleep(0.25)
        raise TimeoutError(f"no kernel started for {notebook}")

    def shutdown_sessions(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # a server that already died has no sessions left
            self.shutdown_sessions()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_lab(workdir: Path, notebooks: list[Path]) -> Lab:
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    settings = workdir / "settings"
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / "config"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    port, token = free_port(), secrets.token_hex(16)
    log = open(workdir / "lab.log", "wb")  # noqa: SIM115 - kept open for the server's life
    args = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
        "--ip=127.0.0.1", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={settings}", "--LabApp.news_url=None",
        "--ServerApp.disable_check_xsrf=True",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, workdir / "runtime", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {(workdir / 'lab.log').read_text()[-2000:]}")
        try:
            lab.api("/api/status")
            return lab
        except OSError:
            time.sleep(0.3)
    lab.stop()
    raise TimeoutError("JupyterLab did not answer within 60 s")


def run_python(client: BlockingKernelClient, code: str, timeout: float = 20) -> str:
    """Run ``code`` in the kernel and return what it printed (raises on an error)."""
    out: list[str] = []
    errors: list[str] = []

    def collect(msg: dict) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    client.execute_interactive(code, timeout=timeout, output_hook=collect)
    if errors:
        raise AssertionError(f"kernel error running {code!r}:\n{errors[0]}")
    return "".join(out)
