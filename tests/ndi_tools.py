"""NDI in tests: sources are found over loopback, through an NDI configuration file.

NDI finds sources by mDNS multicast, which this sandbox (and many CI runners) do not pass; the NDI
runtime reads $NDI_CONFIG_DIR/ndi-config.v1.json, where `networks.ips` names hosts to ask directly.
Set before the runtime starts (the first cyndilib sender, finder or receiver of the process).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CONFIG = {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}


def loopback_env(folder: Path) -> dict[str, str]:
    """Environment variables that make NDI find sources on this machine without multicast."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ndi-config.v1.json").write_text(json.dumps(CONFIG))
    return {"NDI_CONFIG_DIR": str(folder)}


@pytest.fixture(scope="session", autouse=True)
def ndi_loopback(tmp_path_factory) -> dict[str, str]:
    """NDI over loopback for this test process (and the environment to pass to child processes).
    Autouse: the NDI runtime reads its configuration once, when the first test of the process that
    touches NDI starts it (`vj devices` lists NDI sources too), so it must be in place before any."""
    pytest.importorskip("cyndilib", reason="cyndilib is a dependency: reinstall with `pip install -e .`")
    env = loopback_env(tmp_path_factory.mktemp("ndi"))
    os.environ.update(env)
    return env
