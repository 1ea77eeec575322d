"""Living under systemd: sd_notify (READY, WATCHDOG, STATUS, STOPPING) and health checks."""
