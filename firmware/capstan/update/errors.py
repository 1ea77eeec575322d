"""Errors of the update subsystem: each message is one line a person can act on."""

from __future__ import annotations

from capstan.errors import CapstanError


class UpdateError(CapstanError):
    """An update could not be installed, checked or rolled back."""


class BundleRejected(UpdateError):
    """A bundle failed a check: it is not installed, and the message says why."""


class KeyFileError(UpdateError):
    """A minisign key or signature file is unreadable."""


class PowerCut(Exception):
    """Raised by a test's disk layer to stand for the power going off mid-install.

    Deliberately not a CapstanError: nothing in the installer may catch it.
    """
