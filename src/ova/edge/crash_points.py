"""A test hook: die by SIGKILL at a named point of the cache or the uploader.

Only for the crash tests (security.md D4). When the environment variable ``OVA_TEST_KILL_AT``
names a point (``writing``, ``pre-fsync``, ``post-rename``, ``uploading``, ``post-upload``,
``pre-delete``) the process kills itself the ``OVA_TEST_KILL_AFTER``-th time (default 1) it
reaches that point. Unset (always, outside those tests) it does nothing. The variable is read
once, when the first point is reached.
"""

from __future__ import annotations

import os
import signal

POINTS = ("writing", "pre-fsync", "post-rename", "uploading", "post-upload", "pre-delete")
_state: dict[str, int] = {}


def reached(point: str) -> None:
    """Kill this process when the test hook names ``point`` and its count is reached."""
    if "armed" not in _state:
        _state["armed"] = 1 if os.environ.get("OVA_TEST_KILL_AT") in POINTS else 0
        _state["after"] = int(os.environ.get("OVA_TEST_KILL_AFTER", "1"))
    if not _state["armed"] or os.environ.get("OVA_TEST_KILL_AT") != point:
        return
    _state["after"] -= 1
    if _state["after"] <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
