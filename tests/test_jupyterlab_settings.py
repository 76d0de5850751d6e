"""The JupyterLab settings `make setup` installs: widget messages on one thread, no news pop-up."""

import json
from pathlib import Path

OVERRIDES = Path(__file__).resolve().parents[1] / "tools" / "jupyterlab_overrides.json"


def test_news_pop_up_and_update_checks_are_off():
    settings = json.loads(OVERRIDES.read_text())
    notification = settings["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
    assert settings["@jupyterlab/apputils-extension:kernels-settings"]["commsOverSubshells"] == "disabled"
