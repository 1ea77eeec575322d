"""Install a bundle into the inactive slot; the switch of `current` is the last write.

Order, and why a power cut anywhere leaves a complete slot running:
 1. copy the bundle from the (untrusted, FAT) card into a private 0700 directory
 2. check it there: archive, signature, manifest, hashes, board, version, history, every
    wheel, and that the slot can be built (python, pip wheel, free space)
 3. empty the inactive slot and build it (venv + wheels); hash it again; fsync it all
 4. write the slot's marker (complete) and trial.json (what to go back to)
 5. point `current` at the new slot: a symlink renamed over the old one, dir fsynced
Before 5 `current` still names the old, untouched slot; after it, the new slot, fsynced.
A refusal or failure at any step removes the private copy. Everything is read and
written a piece at a time (bundle.CHUNK): memory does not grow with the bundle.
`verify` makes the same checks as 1-2 without writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from capstan.power.update_check import power_ok as default_power_ok
from capstan.update import ledger, minisign
from capstan.update.bundle import (
    CHUNK,
    MAX_FILE,
    VerifiedBundle,
    bundle_size,
    check_fits_player,
    file_sha256,
    open_bundle,
)
from capstan.update.disk import Disk
from capstan.update.errors import BundleRejected, UpdateError
from capstan.update.slots import Layout, marker_text, read_marker
from capstan.update.trial import locked
from capstan.update.venv import SlotBuilder, VenvBuilder, check_slot, check_space
from capstan.update.wheels import WheelInfo, check_wheels


class NotEnoughPower(UpdateError):
    """Refused for now; the same bundle is tried again at the next start."""


@dataclass(frozen=True)
class Installed:
    slot: str
    version: str
    previous: str | None
    previous_version: str | None
    manifest_sha256: str
    files_checked: int


def load_key(layout: Layout, key_path: Path | None = None) -> minisign.PublicKey:
    path = key_path or layout.key
    try:
        return minisign.load_public_key(path.read_text())
    except OSError:
        raise UpdateError(f"no update key at {path}: flash a Capstan SD image, or pass "
                          "--key") from None


def board_compatible() -> str:
    """The player's board string, from hardware/board.toml."""
    from capstan.errors import BoardError
    from capstan.hardware.description import load_board

    try:
        return load_board().compatible
    except BoardError as exc:
        raise UpdateError(f"cannot tell which board this is, so no bundle can be checked: "
                          f"{exc}") from None


def check_bundle(layout: Layout, bundle: VerifiedBundle, compatible: str,
                 builder: SlotBuilder) -> list[WheelInfo]:
    """Everything install checks before it touches a slot, for a verified bundle."""
    active = layout.active()
    current = read_marker(layout, active) if active else None
    check_fits_player(bundle, compatible, current.version if current else None)
    if bundle.manifest_sha256 in ledger.read_history(layout).failed_manifests:
        raise BundleRejected(f"capstan {bundle.manifest.version}: this bundle failed its trial "
                             "start before and is not applied again; wait for a newer one")
    # The slot to overwrite must be neither the one on trial nor the last healthy one.
    target = layout.inactive()
    record = ledger.read_trial(layout)
    if record is not None and record.slot == active:
        raise UpdateError(f"capstan {record.version} is still on trial; restart the player "
                          "and let it finish before installing another update")
    if layout.pointed(layout.good) == target:
        raise UpdateError(f"slot {target} holds the last firmware that proved healthy and "
                          "the running one has not; restart the player, then try again")
    wheels = check_wheels(bundle)
    builder.preflight(layout.slot(target).parent, sum(f.size for f in bundle.manifest.wheels),
                      sum(w.unpacked for w in wheels))
    return wheels


def verify(bundle_path: Path, layout: Layout, *, key: minisign.PublicKey | None = None,
           compatible: str | None = None, builder: SlotBuilder | None = None,
           ) -> VerifiedBundle:
    """What install would say of this bundle on this player, without writing anything."""
    key = key or load_key(layout)
    bundle = _guarded(lambda: open_bundle(bundle_path, key))
    _guarded(lambda: check_bundle(layout, bundle, compatible or board_compatible(),
                                  builder or VenvBuilder()))
    return bundle


T = TypeVar("T")


def _guarded(step: Callable[[], T]) -> T:
    """Runs a step; out of memory or a failing disk becomes one line, as an UpdateError."""
    try:
        return step()
    except MemoryError:
        raise UpdateError("the update ran out of memory; the player is unchanged (close "
                          "other programs, or report the bundle)") from None
    except OSError as exc:
        raise UpdateError(f"the update failed: {exc.strerror or exc} "
                          f"({exc.filename or 'the disk'}); the player is unchanged") from None


def install(bundle_path: Path, layout: Layout, *, key: minisign.PublicKey | None = None,
            compatible: str | None = None, power_ok: Callable[[], bool] = default_power_ok,
            builder: SlotBuilder | None = None, disk: Disk | None = None) -> Installed:
    """Check and install one bundle; one install at a time (the state directory's lock)."""
    with locked(layout):
        return _install(bundle_path, layout, key=key, compatible=compatible,
                        power_ok=power_ok, builder=builder, disk=disk)


def _card_pieces(path: Path) -> Iterator[bytes]:
    """The card's file, read once a piece at a time; never more than a bundle may be."""
    read = 0
    with path.open("rb") as f:
        while piece := f.read(CHUNK):
            read += len(piece)
            if read > MAX_FILE:
                raise BundleRejected(f"{path.name}: grew past the size a bundle may be while "
                                     "it was copied; copy it onto the card again")
            yield piece


def _install(bundle_path: Path, layout: Layout, *, key: minisign.PublicKey | None,
             compatible: str | None, power_ok: Callable[[], bool],
             builder: SlotBuilder | None, disk: Disk | None) -> Installed:
    disk = disk or Disk()
    builder = builder or VenvBuilder()
    key = key or load_key(layout)
    compatible = compatible or board_compatible()
    if not power_ok():
        raise NotEnoughPower("not enough power to update: plug in the charger or charge the "
                             "battery above 30 %, then restart the player")
    size = bundle_size(bundle_path)
    private = layout.incoming / "bundle.capstan"
    try:
        _guarded(lambda: _clear_incoming(layout, disk))
        check_space(layout.incoming, size + (1 << 20))
        return _guarded(lambda: _check_and_build(bundle_path, private, layout, key,
                                                 compatible, builder, disk))
    except (UpdateError, OSError, MemoryError):
        # Refused or failed: the private copy goes (nothing to keep: the card has it).
        _guarded(lambda: _clear_incoming(layout, disk))
        raise


def _clear_incoming(layout: Layout, disk: Disk) -> None:
    disk.mkdir(layout.incoming, 0o700)
    leftovers = list(layout.incoming.iterdir())
    for path in leftovers:
        disk.remove(path)
    if leftovers:
        disk.fsync(layout.incoming)


def _check_and_build(bundle_path: Path, private: Path, layout: Layout,
                     key: minisign.PublicKey, compatible: str, builder: SlotBuilder,
                     disk: Disk) -> Installed:
    # 1. The card is untrusted: take one private copy and work only from it.
    disk.write_stream(private, _card_pieces(bundle_path), 0o600)

    # 2. Every check before the first change to a slot.
    bundle = open_bundle(private, key)
    check_bundle(layout, bundle, compatible, builder)
    active = layout.active()
    current = read_marker(layout, active) if active else None
    target = layout.inactive()

    # 3. The inactive slot: emptied, built, hashed again, fsynced.
    slot = layout.slot(target)
    if slot.exists() or slot.is_symlink():
        disk.remove(slot)
    disk.mkdir(slot)
    wheel_dir = slot / "bundle"
    disk.mkdir(wheel_dir)
    wheels = {wheel_dir / Path(spec.path).name: spec for spec in bundle.manifest.wheels}
    for path, spec in wheels.items():
        disk.write_stream(path, bundle.chunks(spec.path))
    builder.build(slot, list(wheels), disk)
    for path, spec in wheels.items():
        if file_sha256(path) != spec.sha256:
            raise UpdateError(f"{path.name} changed on disk after writing; the SD card may be "
                              "failing: try another card")
    checked = check_slot(slot, [p.name for p in wheels])
    disk.fsync_tree(slot)

    # 4. Complete marker, then the trial record.
    disk.write_durably(slot / "capstan-slot.toml",
                       marker_text(bundle.manifest.version, bundle.manifest_sha256))
    disk.fsync(slot)
    disk.remove(private)
    ledger.write_trial(layout, ledger.TrialRecord(
        slot=target, previous=active, version=bundle.manifest.version,
        previous_version=current.version if current else None,
        manifest_sha256=bundle.manifest_sha256, bundle=bundle_path.name), disk)

    # 5. The switch: the last write.
    disk.point(layout.current, f"slots/{target}")
    return Installed(target, bundle.manifest.version, active,
                     current.version if current else None, bundle.manifest_sha256, checked)
