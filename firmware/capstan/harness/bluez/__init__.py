"""BlueZ for the simulator: a private dbus-daemon with a BlueZ mock (`template.py`, a fixed copy
of python-dbusmock's `bluez5`) and the real bluealsa beside it (`daemons.py`, `mock.py`)."""
