"""Real-browser UI tests: a real JupyterLab server driven by Debian's headless Chromium.

Session fixtures:
  jupyter_server  a `python -m jupyterlab` subprocess on a free 127.0.0.1 port, rooted in a
                  temp folder, with HOME/JUPYTER_*/IPYTHONDIR in temp dirs; always terminated.
  browser         a Playwright (sync API) chromium launched from /usr/bin/chromium.
Function fixture:
  page            a fresh browser context + page; a screenshot of it is saved under tmp_path.
Helper (fixture `run_notebook`, returning run_notebook_in_lab):
  run_notebook(page, server, path)  open a notebook, wait for a connected idle kernel,
                                    run all cells, wait until they have all finished.

The tests skip (with the reason) when /usr/bin/chromium or playwright is missing;
`tools/ensure_chromium.sh` (run by `make test`) installs chromium where it can.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT = 60  # s, until /api/status answers
KERNEL_READY_TIMEOUT = 60_000  # ms, page open -> kernel connected and idle
RUN_ALL_TIMEOUT = 60_000  # ms, Run All -> every code cell executed and kernel idle

# Settings the lab must start with: start the kernel without asking, never phone home.
OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _require_browser() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser UI tests need Debian's chromium at {CHROMIUM} "
                    "(run tools/ensure_chromium.sh as root, or apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser UI tests need playwright for Python (pip install -e '.[dev]')")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterServer:
    url: str  # http://127.0.0.1:PORT
    root: Path  # the server's root dir: notebooks and reviews go here
    log: Path  # the server's stdout+stderr

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started, and the kernels it started (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:  # anything left in the group (a kernel that ignored SIGTERM)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    _require_browser()
    base = tmp_path_factory.mktemp("jupyter")
    root, home = base / "root", base / "home"
    dirs = {name: base / name.lower() for name in
            ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
    for path in (root, home, *dirs.values()):
        path.mkdir(parents=True)
    app_settings = base / "lab" / "settings"
    app_settings.mkdir(parents=True)
    (app_settings / "overrides.json").write_text(json.dumps(OVERRIDES, indent=2))

    env = dict(os.environ)
    env.update({name: str(path) for name, path in dirs.items()})
    env["HOME"] = str(home)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_TOKEN", None)

    port = _free_port()
    log = base / "server.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--allow-root", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=", "--ServerApp.password=",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the extension manager
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.app_settings_dir={app_settings}",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = JupyterServer(url=f"http://127.0.0.1:{port}", root=root, log=log)
    started = time.monotonic()
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode} before it was ready:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab not ready after {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.25)
        print(f"jupyter lab ready at {server.url} after {time.monotonic() - started:.1f} s")
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                      timeout=30_000)
        print(f"chromium {chromium.version} launched after {time.monotonic() - started:.1f} s")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, tmp_path, request):
    """A fresh page; a screenshot of how it ended is saved as tmp_path/<test>.png."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.dialogs = []  # any alert()/confirm() a page raises: a test can assert there were none
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    try:
        yield page
    finally:
        shot = tmp_path / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True, timeout=10_000)
            print(f"screenshot: {shot}")
        except Exception as exc:  # a screenshot must never hide the test's own result
            print(f"screenshot failed: {exc}")
        context.close()


# --- driving a notebook ---------------------------------------------------------------

_KERNEL_READY_JS = """(path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return false;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.sessionContext) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
         && panel.content.widgets.length > 0;
}"""

_START_RUN_ALL_JS = """() => {
  window.__runAll = {done: false, error: null};
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .then(() => { window.__runAll.done = true; })
    .catch((e) => { window.__runAll.error = String(e); window.__runAll.done = true; });
}"""

_RUN_ALL_DONE_JS = """() => {
  if (!window.__runAll || !window.__runAll.done) return false;
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return panel.content.widgets.every(
    (cell) => cell.model.type !== 'code' || (cell.model.executionCount !== null
       && !((cell.promptNode && cell.promptNode.textContent) || '').includes('*')));
}"""

_ERRORS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const errors = [];
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
  });
  return errors;
}"""


def run_notebook_in_lab(page, server: JupyterServer, path: str) -> None:
    """Open `path` (relative to the server root) in JupyterLab, run all cells, wait for the end.

    Waits for a kernel that is connected AND idle before Run All: the toolbar reads "idle"
    before any kernel exists, and a Run All sent then is silently dropped. Fails with the
    cells' error outputs if any cell raised.
    """
    start = time.monotonic()
    page.goto(f"{server.url}/lab/tree/{path}?reset", wait_until="domcontentloaded", timeout=30_000)
    try:
        page.wait_for_function(_KERNEL_READY_JS, arg=path, timeout=KERNEL_READY_TIMEOUT, polling=200)
    except Exception as exc:
        raise AssertionError(f"kernel for {path} not connected+idle within {KERNEL_READY_TIMEOUT} ms: {exc}\n"
                             f"server log:\n{server.log_tail()}") from None
    ready = time.monotonic()
    page.evaluate(_START_RUN_ALL_JS)
    try:
        page.wait_for_function(_RUN_ALL_DONE_JS, timeout=RUN_ALL_TIMEOUT, polling=200)
    except Exception as exc:
        raise AssertionError(f"Run All of {path} did not finish within {RUN_ALL_TIMEOUT} ms: {exc}\n"
                             f"server log:\n{server.log_tail()}") from None
    print(f"run_notebook({path}): kernel ready after {ready - start:.1f} s, "
          f"Run All took {time.monotonic() - ready:.1f} s")
    run_error = page.evaluate("() => window.__runAll.error")
    errors = page.evaluate(_ERRORS_JS)
    if run_error or errors:
        raise AssertionError(f"running {path} failed: {run_error or ''} {errors}")


@pytest.fixture
def run_notebook():
    """The helper `run_notebook(page, server, path)` (a fixture, so test modules need no import)."""
    return run_notebook_in_lab
