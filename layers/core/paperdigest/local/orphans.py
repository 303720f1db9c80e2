"""Helper processes of a local command end with it, even when it is killed outright."""

from __future__ import annotations

import os
import threading
import time


def exit_when_gone(pid: int, interval_s: float = 0.5) -> None:
    """End this process once process ``pid`` no longer exists.

    A command stopped by SIGKILL runs no cleanup; without this, the moto server and the
    consumer's workers it started would live on, holding ports and memory.
    """

    def watch() -> None:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="exit-when-gone", daemon=True).start()
