"""Peer tools (ASReview, bib-dedupe, ...) each live in their own venv OUTSIDE the repo.

Why separate venvs: peers pin things our package cannot live with (ASReview needs
pandas < 3, we use pandas 3), and a benchmark must not change the environment it
measures. Why outside the repo: a venv is hundreds of MB that git must never see.

    # in a script under benchmarks/ (run as `python benchmarks/x.py`, so this
    # folder is on sys.path):
    from peers import peer_python, PeerUnavailable
    python = peer_python("asreview", ["asreview>=2,<4"])   # creates it once
    subprocess.run([str(python), "script.py"])

Location: /work/peers/<name>, or $REVIEW_PEERS_DIR/<name>. A venv is reused when
its `requirements.txt` (written after a successful install) matches the requested
requirements; otherwise the missing requirements are installed into it.
The pip log goes to <peers dir>/<name>.log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_PEERS_DIR = Path("/work/peers")
STAMP = "requirements.txt"  # written inside the venv once pip succeeded


class PeerUnavailable(RuntimeError):
    """The peer venv could not be created or installed (no network, no wheel, ...)."""


def peers_dir() -> Path:
    return Path(os.environ.get("REVIEW_PEERS_DIR") or DEFAULT_PEERS_DIR)


def peer_dir(name: str) -> Path:
    return peers_dir() / name


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def peer_python(name: str, requirements: list[str], install: bool = True) -> Path:
    """Return the python of the peer venv `name`, creating it (once) with `requirements`.

    With install=False nothing is created: PeerUnavailable is raised unless the
    venv already holds exactly these requirements (for runs that must stay offline).
    """
    venv = peer_dir(name)
    python = _venv_python(venv)
    stamp = venv / STAMP
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not install:
        raise PeerUnavailable(f"peer venv {venv} is missing or holds other requirements (install disabled)")

    log = venv.parent / f"{name}.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        if not python.exists():
            # The interpreter running the benchmark decides the peer's Python version,
            # so peers are measured on the same Python as we are.
            done = subprocess.run([sys.executable, "-m", "venv", str(venv)], stdout=out, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                raise PeerUnavailable(f"could not create venv {venv} (see {log})")
        print(f"installing {' '.join(requirements)} into {venv} (log: {log}) ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *requirements],
            stdout=out, stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise PeerUnavailable(f"pip install {' '.join(requirements)} failed in {venv} (see {log})")
    stamp.write_text(wanted)
    return python


def peer_versions(python: Path, distributions: list[str]) -> dict[str, str | None]:
    """Installed versions of `distributions` inside a peer venv (None when absent)."""
    code = (
        "import json, sys\n"
        "from importlib.metadata import version, PackageNotFoundError\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: out[d] = version(d)\n"
        "    except PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([str(python), "-c", code, *distributions], capture_output=True, text=True)
    if done.returncode != 0:
        return {d: None for d in distributions}
    return json.loads(done.stdout)


if __name__ == "__main__":
    # python benchmarks/peers.py NAME REQUIREMENT... : create a peer venv by hand.
    if len(sys.argv) < 3:
        sys.exit("usage: python benchmarks/peers.py NAME REQUIREMENT [REQUIREMENT ...]")
    print(peer_python(sys.argv[1], sys.argv[2:]))
