"""The one exception type the command line turns into a one-line error.

Everything that is wrong with the input (a bucket that cannot be opened, a
missing or malformed object, a window without rows) is raised as a
MonitoringError whose message says what was wrong and what to do. Any
other exception is a bug in this package.
"""

from __future__ import annotations


class MonitoringError(Exception):
    """Bad input or environment, reported to the user in one line."""


class ObjectNotFound(MonitoringError):
    """A bucket object that should exist does not."""
