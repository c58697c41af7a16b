"""Open a notebook in JupyterLab or Jupyter Notebook 7 with its kernel already running.

`make demo` runs this file on the demo notebook, and the browser tests start their servers
with it, so both see the same thing: a server whose settings, workspaces and runtime files
live in a folder of their own (never the user's ~/.jupyter), with no news pop-up, and a
session for the notebook created before the page opens, so no kernel-choice dialog shows.

    python scripts/jupyter_app.py [--frontend lab|notebook] [--home DIR] NOTEBOOK [jupyter args]

Standard library only: it runs before anything else is imported from the project.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import webbrowser
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 60


@dataclass(frozen=True)
class Frontend:
    command: str  # the jupyter subcommand
    notebook_path: str  # where the frontend shows one notebook, relative to the server's root

    def page(self, notebook: str) -> str:
        return self.notebook_path.format(path=urllib.parse.quote(notebook))


FRONTENDS = {
    "lab": Frontend("lab", "/lab/tree/{path}"),
    "notebook": Frontend("notebook", "/notebooks/{path}"),
}

# The settings a first-time user would otherwise be asked about in a pop-up.
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def prepare_home(home: Path) -> dict[str, str]:
    """The environment of a server that keeps everything it writes under ``home``."""
    settings = home / "settings"
    for relative, values in QUIET_SETTINGS.items():
        path = settings / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }


def server_command(frontend: Frontend, root: Path, extra_args: list[str]) -> list[str]:
    command = [sys.executable, "-m", "jupyter", frontend.command, f"--ServerApp.root_dir={root}",
               "--ServerApp.open_browser=False"]
    if os.geteuid() == 0 and "--allow-root" not in extra_args:
        command.append("--allow-root")
    return command + extra_args


@dataclass
class JupyterServer:
    frontend: Frontend
    url: str
    token: str
    root: Path
    runtime_dir: Path
    process: subprocess.Popen | None = None

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read()
        return json.loads(answer) if answer else None

    def open_url(self, notebook: str, *, reset: bool = False) -> str:
        query = {"token": self.token}
        if reset and self.frontend.command == "lab":
            query["reset"] = ""  # drops tabs restored from an earlier run of the same workspace
        return f"{self.url}{self.frontend.page(notebook)}?{urllib.parse.urlencode(query)}"

    def start_kernel(self, notebook: str) -> dict:
        """The notebook's session, its kernel started: the page that opens it finds it running."""
        kernel_name = _kernel_name(self.root / notebook)
        return self.api("/api/sessions", "POST", {
            "path": notebook, "name": Path(notebook).name, "type": "notebook",
            "kernel": {"name": kernel_name},
        })

    def shutdown_sessions(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # a server that already died has no sessions left
            self.shutdown_sessions()
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _kernel_name(notebook: Path) -> str:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return json.loads(notebook.read_text())["metadata"]["kernelspec"]["name"]
    return "python3"


def wait_for_server(frontend: Frontend, root: Path, runtime_dir: Path, pid: int,
                    alive=lambda: True, timeout: float = START_TIMEOUT) -> JupyterServer:
    """The server process ``pid`` writes where it listens into its runtime folder; wait for it
    to answer there."""
    info_file = runtime_dir / f"jpserver-{pid}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"jupyter {frontend.command} exited before it answered")
        with contextlib.suppress(OSError, ValueError, KeyError):
            info = json.loads(info_file.read_text())
            server = JupyterServer(frontend, info["url"].rstrip("/"), info["token"], root, runtime_dir)
            server.api("/api/status")
            return server
        time.sleep(0.2)
    raise TimeoutError(f"jupyter {frontend.command} did not answer within {timeout:.0f} s")


def start(frontend: str, root: Path, home: Path, extra_args: list[str] = (), *,
          log: Path | None = None) -> JupyterServer:
    """A server as a child process, for tests: stop it with ``server.stop()``."""
    chosen = FRONTENDS[frontend]
    env = prepare_home(home)
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - kept for the server's life
    process = subprocess.Popen(server_command(chosen, root, list(extra_args)), env=env, cwd=root,
                               stdout=output, stderr=subprocess.STDOUT)
    try:
        server = wait_for_server(chosen, root, Path(env["JUPYTER_RUNTIME_DIR"]), process.pid,
                                 alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError) as exc:
        process.kill()
        tail = log.read_text(errors="replace")[-2000:] if log else ""
        raise RuntimeError(f"{exc}\n{tail}") from exc
    server.process = process
    return server


def _open_when_ready(chosen: Frontend, notebook: Path, runtime_dir: Path, server_pid: int,
                     open_browser: bool) -> None:
    try:
        server = wait_for_server(chosen, notebook.parent, runtime_dir, server_pid)
        server.start_kernel(notebook.name)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"\n[demo] could not start the notebook's kernel: {exc}\n", file=sys.stderr, flush=True)
        return
    url = server.open_url(notebook.name)
    print(f"\n[demo] {notebook.name} is ready, its kernel running: open it and press Run All.\n"
          f"[demo] {url}\n", file=sys.stderr, flush=True)
    if open_browser:
        webbrowser.open(url)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frontend", choices=sorted(FRONTENDS), default="lab")
    parser.add_argument("--home", type=Path, default=Path(".jupyter-demo"),
                        help="where the server keeps its settings, workspaces and runtime files")
    parser.add_argument("notebook", type=Path)
    options, jupyter_args = parser.parse_known_args(argv)
    chosen, notebook = FRONTENDS[options.frontend], options.notebook.resolve()
    env = prepare_home(options.home.resolve())
    open_browser = "--no-browser" not in jupyter_args
    jupyter_args = [a for a in jupyter_args if a != "--no-browser"]
    command = server_command(chosen, notebook.parent, jupyter_args)
    # The server stays in the foreground (Ctrl+C works as usual); a child process waits for
    # it to answer, starts the notebook's kernel and opens the page.
    server_pid = os.getpid()
    if os.fork() == 0:
        sys.stdout.flush()
        _open_when_ready(chosen, notebook, Path(env["JUPYTER_RUNTIME_DIR"]), server_pid, open_browser)
        os._exit(0)
    os.chdir(notebook.parent)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()
