"""The hardware as plain data, at the bottom of the firmware beside errors and events.

`description.py` loads and checks hardware/board.toml (the one description of the
board: pins, buses, PCMs, the mechanism and its constants); `profiles.py` the tables
of the mechanism profiles; `capabilities.py` what a fitted mechanism can do;
`protocols.py` the small interfaces of pins, buses and PCM streams that the real and
the simulated board both provide. It imports only `errors` and `schema`.
"""
