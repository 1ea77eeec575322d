"""The pairing window in pure form: a fake clock, no D-Bus."""

from __future__ import annotations

from capstan.bluetooth import pairing as p

A, B, C = "AA:00:00:00:00:01", "AA:00:00:00:00:02", "AA:00:00:00:00:03"


def run(state: p.PairingState, events: list[tuple[float, object]]) -> tuple[p.PairingState, list]:
    actions: list = []
    for now, event in events:
        state, out = p.step(state, event, now)
        actions += [(now, a) for a in out]
    return state, actions


def test_a_hold_opens_a_window_that_makes_the_player_pairable_and_discovering() -> None:
    state, actions = p.step(p.PairingState(), p.OpenWindow(), 100.0)
    assert state.is_open and state.closes_at == 160.0
    assert actions == [p.SetPairable(True), p.Discover(True)]
    assert p.next_deadline(state) == 100.0 + p.DWELL


def test_the_window_closes_at_sixty_seconds_without_headphones() -> None:
    state, _ = p.step(p.PairingState(), p.OpenWindow(), 0.0)
    state, actions = p.step(state, p.Tick(), 59.9)
    assert state.is_open
    state, actions = p.step(state, p.Tick(), 60.0)
    assert not state.is_open
    assert actions == [p.Discover(False), p.SetPairable(False), p.WindowClosed("timeout")]
    assert p.next_deadline(state) is None


def test_the_strongest_audio_sink_wins_and_phones_are_ignored() -> None:
    state, actions = run(p.PairingState(), [
        (0.0, p.OpenWindow()),
        (0.5, p.Sighted(A, -70, True)),
        (0.7, p.Sighted(B, -40, False)),  # a phone, loudest of all
        (1.0, p.Sighted(C, -55, True)),
        (2.0, p.Sighted(A, -50, True)),  # A came closer: its best reading counts
        (p.DWELL, p.Tick()),
    ])
    assert state.pairing == A
    assert actions[-2:] == [(p.DWELL, p.Discover(False)), (p.DWELL, p.Pair(A))]


def test_success_closes_the_window_and_adopts_the_headphones() -> None:
    state, actions = run(p.PairingState(), [
        (0.0, p.OpenWindow()), (1.0, p.Sighted(A, -60, True)), (3.0, p.Tick()),
        (4.0, p.PairResult(A, True))])
    assert not state.is_open
    assert [a for _, a in actions][-3:] == [p.Adopt(A), p.SetPairable(False),
                                             p.WindowClosed("paired", A)]


def test_a_failed_pairing_moves_on_to_the_next_candidate_and_never_retries_it() -> None:
    state, _actions = run(p.PairingState(), [
        (0.0, p.OpenWindow()), (1.0, p.Sighted(A, -50, True)), (1.5, p.Sighted(C, -60, True)),
        (3.0, p.Tick()), (5.0, p.PairResult(A, False)), (5.0, p.Tick()),
        (6.0, p.Sighted(A, -40, True))])
    assert state.pairing == C
    assert A in state.rejected and A not in state.candidates
    assert not p.may_pair(state, A, True)


def test_an_empty_first_round_waits_for_the_first_answer_and_a_dwell_after_it() -> None:
    state, _ = run(p.PairingState(), [(0.0, p.OpenWindow()), (3.0, p.Tick())])
    assert state.choose_at is None and state.pairing is None
    state, _ = p.step(state, p.Sighted(B, -80, True), 20.0)
    assert p.next_deadline(state) == 20.0 + p.DWELL


def test_timeout_while_pairing_cancels_it() -> None:
    state, actions = run(p.PairingState(), [
        (0.0, p.OpenWindow()), (1.0, p.Sighted(A, -50, True)), (3.0, p.Tick()), (60.0, p.Tick())])
    assert [a for _, a in actions][-4:] == [p.CancelPairing(A), p.Discover(False),
                                             p.SetPairable(False), p.WindowClosed("timeout")]
    state, late = p.step(state, p.PairResult(A, True), 61.0)
    assert late == [] and not state.is_open  # a late success does not adopt anything


def test_nothing_may_pair_outside_the_window() -> None:
    closed = p.PairingState()
    assert not p.may_pair(closed, A, True)
    state, _ = p.step(closed, p.OpenWindow(), 0.0)
    assert p.may_pair(state, A, True)
    assert not p.may_pair(state, A, False)  # not headphones


def test_events_outside_the_window_do_nothing() -> None:
    for event in (p.Sighted(A, -30, True), p.PairResult(A, True), p.Tick()):
        assert p.step(p.PairingState(), event, 5.0) == (p.PairingState(), [])


def test_holding_pair_again_extends_the_window() -> None:
    state, _ = p.step(p.PairingState(), p.OpenWindow(), 0.0)
    state, actions = p.step(state, p.OpenWindow(), 30.0)
    assert state.closes_at == 90.0 and actions == []
