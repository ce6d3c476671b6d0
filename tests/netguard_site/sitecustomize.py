"""Loaded by the Python processes the tests start (PYTHONPATH is set by tests/conftest.py): the loopback-only guard."""

import importlib.util
import os
from pathlib import Path

if os.environ.get("NETGUARD_LOG"):
    _spec = importlib.util.spec_from_file_location("_netguard", Path(__file__).resolve().parents[1] / "netguard.py")
    if _spec is not None and _spec.loader is not None:
        _module = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_module)
        _module.install()
