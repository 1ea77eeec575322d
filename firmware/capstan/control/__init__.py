"""The control socket: JSON lines over a Unix socket, owner and group only."""
