"""The mail rate is shared by every sender through Redis (``survey.mail.pacing.RedisBucket``): two senders,
each with its own connection as two workers would have, together get the rate, not twice it."""

from __future__ import annotations

import threading
import time

import pytest

from survey.mail.pacing import LocalBucket, RedisBucket

pytestmark = [pytest.mark.redis]

RATE = 6000  # per minute: a slot every 10 ms, so the test takes well under a second
EACH = 25


def _send_slots(bucket: RedisBucket | LocalBucket, out: list[float]) -> None:
    for _ in range(EACH):
        wait = bucket.reserve()
        time.sleep(wait)
        out.append(time.monotonic())


def test_two_senders_share_one_rate_through_redis(redis_url: str) -> None:
    first, second = RedisBucket(redis_url, RATE), RedisBucket(redis_url, RATE)
    assert first.client is not second.client
    sent: list[float] = []
    started = time.monotonic()
    threads = [threading.Thread(target=_send_slots, args=(b, sent)) for b in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    took = time.monotonic() - started
    # 50 messages at 100/s: 49 intervals of 10 ms; two unshared buckets would finish in half of that
    assert took >= 0.9 * (2 * EACH - 1) * 60 / RATE, took
    measured = (len(sent) - 1) / (max(sent) - min(sent)) * 60
    assert measured <= RATE * 1.1, measured


def test_local_bucket_waits_before_a_message_not_after() -> None:
    bucket = LocalBucket(600)  # 100 ms apart
    assert bucket.reserve() == 0.0  # the first goes at once
    assert 0.09 <= bucket.reserve() <= 0.1
    assert 0.19 <= bucket.reserve() <= 0.2
