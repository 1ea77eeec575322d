"""Remembered headphones and reconnection with backoff, in pure form with a fake clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from capstan.bluetooth import reconnect as r

A, B = "AA:00:00:00:00:01", "AA:00:00:00:00:02"


def test_backoff_doubles_up_to_the_ceiling() -> None:
    b = r.Backoff(first=1.0, factor=2.0, ceiling=60.0)
    assert [b.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_at_start_it_connects_to_the_last_used_headphone() -> None:
    state, actions = r.step(r.LinkState(known=(B, A)), r.Start(), 0.0)
    assert actions == [r.Connect(B)] and state.connecting == B


def test_nothing_to_do_at_start_without_remembered_headphones() -> None:
    assert r.step(r.LinkState(), r.Start(), 0.0) == (r.LinkState(), [])


def test_failed_attempts_back_off_and_never_stop() -> None:
    state, _ = r.step(r.LinkState(known=(A,)), r.Start(), 0.0)
    now, waits = 0.0, []
    for _ in range(10):
        state, _ = r.step(state, r.ConnectFailed(A), now)
        waits.append(state.retry_at - now)
        now = state.retry_at
        state, actions = r.step(state, r.Tick(), now)
        assert actions == [r.Connect(A)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_a_tick_before_the_deadline_does_not_try() -> None:
    state, _ = r.step(r.LinkState(known=(A,)), r.Start(), 0.0)
    state, _ = r.step(state, r.ConnectFailed(A), 0.0)
    assert r.step(state, r.Tick(), 0.5) == (state, [])


def test_a_link_drop_retries_after_the_first_backoff() -> None:
    state, _ = r.step(r.LinkState(known=(A,)), r.LinkUp(A), 0.0)
    state, actions = r.step(state, r.LinkLost(A), 10.0)
    assert actions == [] and state.retry_at == 11.0 and state.connected is None
    state, actions = r.step(state, r.Tick(), 11.0)
    assert actions == [r.Connect(A)]
    state, _ = r.step(state, r.ConnectFailed(A), 16.0)
    assert state.retry_at == 18.0  # second failure in a row: 2 s


def test_a_known_headphone_appearing_cuts_the_wait_short() -> None:
    state, _ = r.step(r.LinkState(known=(A,)), r.Start(), 0.0)
    for n in range(6):
        state, _ = r.step(state, r.ConnectFailed(A), float(n))
        state, _ = r.step(state, r.Tick(), state.retry_at)
    state, _ = r.step(state, r.ConnectFailed(A), 100.0)
    assert state.retry_at == 160.0
    state, actions = r.step(state, r.Appeared(A), 101.0)
    assert actions == [r.Connect(A)] and state.failures == 0


def test_strangers_appearing_change_nothing() -> None:
    state = r.LinkState(known=(A,))
    assert r.step(state, r.Appeared(B), 0.0) == (state, [])
    assert r.step(state, r.LinkUp(B), 0.0) == (state, [])


def test_the_last_connected_headphone_becomes_the_last_used_and_is_saved() -> None:
    state, actions = r.step(r.LinkState(known=(A, B)), r.LinkUp(B), 0.0)
    assert state.known == (B, A) and actions == [r.Save((B, A))]
    state, actions = r.step(state, r.Remember("CC:00:00:00:00:03"), 1.0)
    assert state.last_used == "CC:00:00:00:00:03" and len(state.known) == 3


def test_forgetting_removes_every_remembered_headphone() -> None:
    state, actions = r.step(r.LinkState(known=(A, B), connected=A), r.ForgetAll(), 0.0)
    assert state.known == () and state.connected is None
    assert actions == [r.Remove(A), r.Remove(B), r.Save(())]


@given(st.lists(st.sampled_from(["fail", "tick", "lost", "up", "appear"]), max_size=60))
def test_never_a_busy_loop(script: list[str]) -> None:
    """Whatever happens, no two connection attempts are closer than the first backoff
    unless the headphone itself appeared in between."""
    state, now, last_attempt = r.LinkState(known=(A,)), 0.0, None
    state, actions = r.step(state, r.Start(), now)
    for word in script:
        now += 0.25
        event = {"fail": r.ConnectFailed(A), "tick": r.Tick(), "lost": r.LinkLost(A),
                 "up": r.LinkUp(A), "appear": r.Appeared(A)}[word]
        if word == "tick" and state.retry_at is not None:
            now = max(now, state.retry_at)
        state, actions = r.step(state, event, now)
        if any(isinstance(a, r.Connect) for a in actions):
            if last_attempt is not None and word != "appear":
                assert now - last_attempt >= state.backoff.first
            last_attempt = now
