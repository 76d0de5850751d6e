"""A widget as a page of its own on localhost, for reviewers who never open a notebook.

`review screen DIR --stage title_abstract --reviewer am` and `review conflicts DIR ...` serve the
same widget objects the notebooks show: the page loads the widget's own ESM file
(static/*.js) and gives it a small stand-in for the anywidget model that sends each message
to this server by HTTP and applies the new state it answers with. So the page runs the very
code the notebook runs, Python side and browser side, without Jupyter and without any notebook
code on screen.

One request at a time (http.server's plain HTTPServer), in the order the page sends them:
the page queues its messages, as the kernel does. Only 127.0.0.1 is served, and requests
whose Host is not this address are refused (a web page elsewhere cannot drive it).
"""

from __future__ import annotations

import json
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import anywidget

from review.widgets.html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px 24px; color: #222;}}
.rv-page-title {{font-size: 15px; color: #555; margin-bottom: 8px;}}
.rv-offline {{color: #a00; font-weight: bold;}}
{css}
</style></head>
<body><div class="rv-page-title">{title}</div><div id="app"></div><div id="offline" class="rv-offline"></div>
<script type="module">
import widget from "./widget.js";
const listeners = {{}};
let state = await (await fetch("./state")).json();
let queue = Promise.resolve();  // one request at a time, in the order sent
function apply(next) {{
  const changed = Object.keys(next).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(state[k]));
  state = {{...state, ...next}};
  for (const k of changed) for (const cb of (listeners["change:" + k] || [])) cb();
}}
const model = {{
  get: (key) => state[key],
  on: (event, cb) => {{ (listeners[event] ||= []).push(cb); }},
  off: (event, cb) => {{ listeners[event] = (listeners[event] || []).filter((f) => f !== cb); }},
  send: (content) => {{
    queue = queue.then(async () => {{
      try {{
        const answer = await fetch("./msg", {{method: "POST", headers: {{"Content-Type": "application/json"}},
                                              body: JSON.stringify(content)}});
        if (!answer.ok) throw new Error(await answer.text());
        document.getElementById("offline").textContent = "";
        apply(await answer.json());
      }} catch (error) {{
        document.getElementById("offline").textContent =
          "The review server did not answer, so that last action was not saved: " + error.message;
      }}
    }});
  }},
}};
const render = widget.render || (widget.default && widget.default.render);
render({{model, el: document.getElementById("app")}});
window.__reviewPageReady = true;
</script></body></html>
"""


def page_state(face: anywidget.AnyWidget) -> dict:
    """The traits the widget's ESM reads (those a widget class adds to AnyWidget's own)."""
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    return {name: getattr(face, name) for name in type(face).class_trait_names(sync=True)
            if name not in base and not name.startswith("_")}


class WidgetPage:
    """Serve one widget (anything with `.face` and `.handle(message)`) on 127.0.0.1."""

    def __init__(self, widget, title: str, port: int = 0):
        self.widget, self.title = widget, title
        self._lock = threading.Lock()
        face = widget.face
        self._esm = Path(face._esm).read_text(encoding="utf-8") if isinstance(face._esm, Path) else str(face._esm)
        css = Path(face._css).read_text(encoding="utf-8") if isinstance(face._css, Path) else str(face._css or "")
        self._html = _PAGE.format(title=escape(title), css=css)
        self.server = HTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"

    def _handler(self):
        page = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # quiet: the terminal shows the URL, not every request
                pass

            def _host_ok(self) -> bool:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                if host in ("127.0.0.1", "localhost"):
                    return True
                self._send(HTTPStatus.FORBIDDEN, "text/plain", b"this page is served for 127.0.0.1 only")
                return False

            def _send(self, status, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if not self._host_ok():
                    return
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._send(HTTPStatus.OK, "text/html; charset=utf-8", page._html.encode("utf-8"))
                elif path == "/widget.js":
                    self._send(HTTPStatus.OK, "text/javascript; charset=utf-8", page._esm.encode("utf-8"))
                elif path == "/state":
                    with page._lock:
                        body = json.dumps(page_state(page.widget.face), default=str)
                    self._send(HTTPStatus.OK, "application/json", body.encode("utf-8"))
                else:
                    self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

            def do_POST(self):
                if not self._host_ok():
                    return
                if self.path != "/msg":
                    self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    content = json.loads(self.rfile.read(length) or b"{}")
                    if not isinstance(content, dict):
                        raise ValueError("a message is a JSON object")
                except ValueError as exc:
                    self._send(HTTPStatus.BAD_REQUEST, "text/plain", f"bad message: {exc}".encode())
                    return
                with page._lock:
                    page.widget.handle(content)
                    body = json.dumps(page_state(page.widget.face), default=str)
                self._send(HTTPStatus.OK, "application/json", body.encode("utf-8"))

        return Handler

    def serve(self, open_browser: bool = False) -> None:
        """Serve until interrupted (Ctrl-C)."""
        if open_browser:
            webbrowser.open(self.url)
        try:
            self.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.server_close()

    def start(self) -> threading.Thread:
        """Serve on a background thread (tests, benchmarks); stop with `stop()`."""
        thread = threading.Thread(target=self.server.serve_forever, name="review-page", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
