"""The live app's whole parameter table without a model: for docs, checks and offline tools."""
from __future__ import annotations

from engine import ParamStore, make_store


def app_store() -> ParamStore:
    """A store with the engine's rows and every vj row listed in vj/app.py app_tables()."""
    from .app import app_tables
    store = make_store()
    for specs, actions in app_tables():
        store.add(specs, actions)
    return store
