"""Mixtape recording: arming, the record sequence, record level, track marks, the side's end,
and playing a planned playlist out onto tape (docs/recording.md)."""
