"""Real Jupyter servers (and a marimo app) on loopback, driven by headless Chromium, for the
browser tests.

The servers start as `make demo` starts one (scripts/jupyter_app.py): their own settings,
workspace and runtime folders, no news pop-up, and each notebook's kernel started before
its page opens. The browser cannot reach the internet; kernels shut down before the server
stops.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import BlockingKernelClient

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from jupyter_app import JupyterServer, start  # noqa: E402

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
# The tests drive the frontend's own commands by id (public API), never its menu labels.
SERVER_ARGS = ["--ip=127.0.0.1", "--port=0", "--no-browser", "--expose-app-in-browser"]


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured and Path(configured).exists():
        return configured
    return next((c for c in CHROMIUM_CANDIDATES if Path(c).exists()), None)


def start_server(frontend: str, workdir: Path, notebooks: list[Path]) -> JupyterServer:
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    return start(frontend, root, workdir / "home", SERVER_ARGS, log=workdir / "server.log")


@dataclass
class MarimoApp:
    """``marimo run`` of one notebook on loopback (app view: its cells run on page load)."""

    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_marimo(notebook: Path, workdir: Path, timeout: float = 60) -> MarimoApp:
    """Serve a copy of ``notebook`` with ``marimo run``, headless, no token, on a free port."""
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / notebook.name
    shutil.copy(notebook, copy)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(workdir / "marimo.log", "wb")  # noqa: SIM115 - kept for the server's life
    process = subprocess.Popen([sys.executable, "-m", "marimo", "run", str(copy), "--headless",
                                "--host", "127.0.0.1", "--port", str(port), "--no-token"],
                               cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    app = MarimoApp(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"marimo exited early:\n{(workdir / 'marimo.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(app.url, timeout=2):
                return app
        except OSError:
            time.sleep(0.2)
    app.stop()
    raise TimeoutError(f"marimo did not answer within {timeout:.0f} s")


def kernel_for(server: JupyterServer, notebook: str, timeout: float = 30) -> BlockingKernelClient:
    """A second client on the notebook's own kernel: reads the Python side back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for session in server.api("/api/sessions"):
            if session["path"].endswith(notebook):
                connection = server.runtime_dir / f"kernel-{session['kernel']['id']}.json"
                if connection.exists():
                    client = BlockingKernelClient(connection_file=str(connection))
                    client.load_connection_file()
                    client.start_channels()
                    client.wait_for_ready(timeout=20)
                    return client
        time.sleep(0.25)
    raise TimeoutError(f"no kernel started for {notebook}")


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
