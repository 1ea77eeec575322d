"""Tape intelligence in the player: track marks, music search, knowing the cassette, the
speed and wow & flutter meter, digitizing. See docs/tape-intelligence.md.

`TapeIntelligence(player, state)` is a service on the Player's loop, fed by the audio
chain's analysis tap; the signal analysis itself is capstan.analysis.
"""

from capstan.intelligence.service import TapeIntelligence

__all__ = ["TapeIntelligence"]
