"""The simulator harness: the whole player run on the simulated deck, above app.py.

`session.py` (a `SimSession`: the simulated board, the Player on it, simulated time,
the report's events), `scenario.py` (a scenario file checked and read), `runner.py`
and `profile_runner.py` (a scenario run to its report), `profile_deck.py` (a
profile's mechanism device and transport over the simulated CRP42602Y or walkman),
`world.py` (the simulated headphones on `bluez/`: a BlueZ mock and bluealsa beside
the player), `record_run.py` (`capstan record --sim`) and `cli.py` (`capstan sim`).
`capstan.sim` below it is only the simulated hardware. docs/simulator.md.
"""
