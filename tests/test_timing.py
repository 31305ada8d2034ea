"""seqlearn.timing.best_time: the fastest of a few runs, measured with a clock we control."""

import pytest

from seqlearn import timing


class ScriptedClock:
    """time.perf_counter for the timing module: each call to the timed function takes the next
    duration of ``durations``."""

    def __init__(self, durations):
        self.durations, self.now, self.calls = list(durations), 0.0, 0

    def perf_counter(self):
        return self.now

    def run(self):
        self.now += self.durations[self.calls]
        self.calls += 1


def test_best_time_is_the_shortest_of_the_runs(monkeypatch):
    clock = ScriptedClock([0.5, 0.2, 0.9, 0.1])
    monkeypatch.setattr(timing, "time", clock)
    assert timing.best_time(clock.run, repeats=3) == pytest.approx(0.2)
    assert clock.calls == 3
    assert timing.best_time(clock.run, repeats=1) == pytest.approx(0.1)


def test_best_time_of_real_work_is_a_positive_number_of_seconds():
    seconds = timing.best_time(lambda: sum(range(1000)))
    assert 0 < seconds < float("inf")


def test_bad_input():
    with pytest.raises(TypeError, match="fn"):
        timing.best_time(3)
    with pytest.raises(ValueError, match="repeats"):
        timing.best_time(lambda: None, repeats=0)
