"""The mail port's send rate: a sleep-based limiter (MAIL_RATE_PER_SECOND, default 10)."""
from __future__ import annotations

from chalicelib.mail.outbox import Throttled


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.t += seconds


class Recorder:
    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.at: list[float] = []

    def send(self, message) -> str:
        self.at.append(round(self.time.t, 6))
        return f"id-{len(self.at)}"


def test_a_burst_is_spaced_to_the_rate():
    time = FakeTime()
    sink = Recorder(time)
    throttled = Throttled(sink, 10, clock=time.clock, sleep=time.sleep)
    assert [throttled.send(None) for _ in range(4)] == ["id-1", "id-2", "id-3", "id-4"]
    assert sink.at == [100.0, 100.1, 100.2, 100.3]
    assert time.slept == [0.1, 0.1, 0.1]


def test_slow_senders_never_wait():
    time = FakeTime()
    sink = Recorder(time)
    throttled = Throttled(sink, 10, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        throttled.send(None)
        time.t += 0.5
    assert time.slept == []


def test_rate_zero_means_no_limit():
    time = FakeTime()
    throttled = Throttled(Recorder(time), 0, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        throttled.send(None)
    assert time.slept == []


def test_the_rate_comes_from_the_configuration(monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("MAIL_RATE_PER_SECOND", "2.5")
    config.reset()
    try:
        assert config.settings().mail_rate_per_second == 2.5
        monkeypatch.delenv("MAIL_RATE_PER_SECOND")
        config.reset()
        assert config.settings().mail_rate_per_second == 10.0
    finally:
        config.reset()
