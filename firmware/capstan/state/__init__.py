"""Durable state: `StateStore(directory, bus).load(name, default)` / `.save(name, data)`."""

from capstan.state.store import StateError, StateNotSaved, StateRecovered, StateStore

__all__ = ["StateError", "StateNotSaved", "StateRecovered", "StateStore"]
