"""Request and token rate limits shared by the threads of one client.

A token bucket per limit, refilled continuously. Tokens are known only after a call, so a call waits while the
token bucket is empty and pays afterwards: a burst can overdraw it, and the next calls wait for the refill.
"""

from __future__ import annotations

import threading
import time


class _Bucket:
    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        # At most one second's worth in hand: a full minute's would let a whole minute of requests out at once.
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 when it is)."""
        return 0.0 if self.level >= amount else (amount - self.level) / self.rate


class RateLimiter:
    def __init__(self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None) -> None:
        self._requests = _Bucket(requests_per_minute) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute) if tokens_per_minute else None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more request may start, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                waits = [0.0]
                if self._requests:
                    self._requests.refill(now)
                    waits.append(self._requests.wait_for(1))
                if self._tokens:
                    self._tokens.refill(now)
                    waits.append(self._tokens.wait_for(1))
                wait = max(waits)
                if wait == 0.0:
                    if self._requests:
                        self._requests.level -= 1
                    return
            time.sleep(wait)

    def spend_tokens(self, tokens: int) -> None:
        if self._tokens:
            with self._lock:
                self._tokens.refill(time.monotonic())
                self._tokens.level -= tokens
