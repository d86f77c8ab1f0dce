"""Coalesced progress: handlers may report as often as they like; at most a few writes a second
per task reach the server, and the last value reported always does."""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

Update = Tuple[float, Optional[str]]


class ProgressPump:
    """One thread writing every task's latest progress, each task at most once per ``interval``."""

    def __init__(self, write: Callable[[str, Update], None], interval: float = 0.25) -> None:
        self._write = write
        self._interval = interval
        self._cond = threading.Condition()
        self._pending: Dict[str, Update] = {}
        self._next_at: Dict[str, float] = {}
        self._last: Dict[str, Update] = {}
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="tasklane-progress", daemon=True)
        self._thread.start()

    def report(self, key: str, percent: float, message: Optional[str]) -> None:
        with self._cond:
            if self._stopped:
                return
            self._pending[key] = (percent, message)
            self._last[key] = (percent, message)
            self._cond.notify()

    def close(self, key: str) -> Optional[Update]:
        """Stops writes for ``key`` (a write in flight still lands); returns its last reported value."""
        with self._cond:
            self._pending.pop(key, None)
            self._next_at.pop(key, None)
            return self._last.pop(key, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                due: List[Tuple[str, Update]] = []
                while not due:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    wake: Optional[float] = None
                    for key in list(self._pending):
                        at = self._next_at.get(key, 0.0)
                        if at <= now:
                            due.append((key, self._pending.pop(key)))
                            self._next_at[key] = now + self._interval
                        elif wake is None or at < wake:
                            wake = at
                    if not due:
                        self._cond.wait(None if wake is None else wake - now)
            for key, update in due:
                try:
                    self._write(key, update)
                except Exception:  # noqa: BLE001 - progress is advisory; the outcome write is what counts
                    pass
