"""Pacing bulk mail: a rate per minute shared by every sender of the installation.

A token bucket with room for one token, kept as the time the next token is free (the "virtual
scheduling" form of a bucket, also called GCRA): a sender reserves the next free slot and waits until
it comes. The wait is before a message, so nothing ever sleeps after the last one, and only bulk mail is
paced (invitations, reminders, kick-offs): a leader's report and the TRIO notice never wait.

With a Redis broker the slot lives in Redis and is reserved by a small Lua script on Redis's own clock,
so N workers together send at the rate, not N times it. Without a broker (the embedded default, tasks
in-process) the bucket is a process-wide object.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)

PACED_KINDS = frozenset({"invitation", "reminder", "kickoff"})
REDIS_KEY = "tryghed:mail-pace"

# KEYS[1]: the next free slot (microseconds, Redis clock). ARGV[1]: the interval between messages.
# Returns how long the caller waits for the slot it just took (microseconds).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local ttl = math.ceil((slot + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', ttl)
return slot - now
"""


class Bucket(Protocol):
    def reserve(self) -> float:
        """Take the next slot; returns the seconds to wait before sending."""
        ...


class LocalBucket:
    """The bucket of one process (threads share it), on the monotonic clock."""

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
            return slot - now


class RedisBucket:
    """The bucket shared through Redis by every worker of the installation."""

    def __init__(self, url: str, per_minute: float, key: str = REDIS_KEY) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.interval_us = int(60_000_000 / per_minute)
        self.key = key
        self.fallback = LocalBucket(per_minute)
        self._script = self.client.register_script(_RESERVE)

    def reserve(self) -> float:
        import redis

        try:
            return int(self._script(keys=[self.key], args=[self.interval_us])) / 1_000_000
        except redis.RedisError as exc:
            # mail still goes, at this process's share of nothing less than the rate; said in the log
            log.warning("mail pacing through Redis failed (%s); pacing in this process only", exc)
            return self.fallback.reserve()


class Pacer:
    """Decides per message: bulk kinds wait for the bucket, everything else goes at once."""

    def __init__(self, bucket: Bucket | None) -> None:
        self.bucket = bucket

    def reserve(self, kind: str) -> float:
        if self.bucket is None or kind not in PACED_KINDS:
            return 0.0
        return self.bucket.reserve()


# one bucket per process and rate: in-process senders share it, and a worker keeps its Redis connection
_buckets: dict[tuple[str, float], Bucket] = {}
_buckets_lock = threading.Lock()


def pacer_for(config: dict[str, Any]) -> Pacer:
    """The pacer of an installation: off without SMTP or with rate 0, Redis-shared with a Redis broker."""
    rate = float(config["MAIL_RATE_PER_MINUTE"])
    if not config.get("SMTP_HOST") or rate <= 0:
        return Pacer(None)  # the outbox folder needs no pacing
    broker = str(config.get("BROKER_URL") or "")
    shared = broker.startswith(("redis://", "rediss://", "unix://"))
    with _buckets_lock:
        bucket = _buckets.get((broker if shared else "", rate))
        if bucket is None:
            bucket = RedisBucket(broker, rate) if shared else LocalBucket(rate)
            _buckets[(broker if shared else "", rate)] = bucket
    return Pacer(bucket)
