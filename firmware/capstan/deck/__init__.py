"""The domain, pure and clock-injected: `(state, event, now) -> (state, commands)`. No I/O here."""
