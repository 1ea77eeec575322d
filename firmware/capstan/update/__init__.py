"""Updates by SD card: signed bundles, A/B slots, trial starts and rollback.

- `minisign`: Ed25519 keys and signatures in minisign's file formats.
- `archive`, `manifest`, `bundle`: read and check a `.capstan` bundle (any input is safe).
- `pack`: build a bundle (used by tools/make-bundle).
- `disk`, `slots`, `install`, `trial`: the A/B install and the trial start.
- `cli`: `capstan update verify|install|status|boot|confirm`.
"""
