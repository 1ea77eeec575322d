"""`capstan usb run|down`: the USB gadget of the port, as root (capstan-usb.service).

`run` reads `[usb] gadget` from the configuration; "off" takes down any gadget left
and exits. Otherwise it sets the gadget up in configfs and binds it to the device
controller; with the drive ("storage", "both") it then watches the drive's LUN and
takes bundles off it at each eject (capstan.usb.drive); with audio only, it waits.
SIGTERM takes the gadget down. The daemon plays into the gadget's sound card itself.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("/etc/capstan/capstan.toml")
RESTART = ("systemctl", "restart", "--no-block", "capstan-update.service",
           "capstan.service", "capstan-usb.service")


def register(subparsers: Any) -> None:
    usb = subparsers.add_parser("usb", help="the USB-C port as a sound card and an update "
                                "drive (as root)")
    sub = usb.add_subparsers(dest="usb_command", metavar="ACTION", required=True)
    p = sub.add_parser("run", help="set the gadget up from [usb] gadget and watch the drive")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                   help="the configuration file (default: /etc/capstan/capstan.toml)")
    p.add_argument("--root", type=Path, default=Path("/"),
                   help="the directory that stands for / for updates (default: /)")
    p.add_argument("--image", type=Path, default=None,
                   help="the drive's FAT image (default: /var/lib/capstan-usb/drive.img)")
    p.set_defaults(func=run)
    p = sub.add_parser("down", help="take the gadget down")
    p.set_defaults(func=down)


def _config(path: Path) -> dict[str, Any]:
    from capstan.config import load_config

    return load_config(path if path.exists() or path != DEFAULT_CONFIG else None)


def down(args: argparse.Namespace) -> int:
    from capstan.usb.gadget import Gadget, GadgetSpec

    Gadget(GadgetSpec("both", Path("/dev/null"))).down()
    print("usb: gadget down")
    return 0


def run(args: argparse.Namespace) -> int:
    from capstan.power.update_check import power_check_for
    from capstan.update import trial
    from capstan.update.boot import boot
    from capstan.usb import wants_storage
    from capstan.usb.drive import IMAGE, FatImage, UpdateDrive, watch
    from capstan.usb.gadget import Gadget, GadgetSpec, udc_name

    mode = _config(args.config)["usb"]["gadget"]
    image = FatImage(args.image or IMAGE)
    if mode == "off":
        Gadget(GadgetSpec("both", image.path)).down()
        print("usb: gadget off ([usb] gadget = \"off\")")
        return 0
    gadget = Gadget(GadgetSpec(mode, image.path if wants_storage(mode) else None))
    if not gadget.root.is_dir():  # configfs's usb_gadget comes with libcomposite
        subprocess.run(["modprobe", "libcomposite"], check=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    drive = None
    if wants_storage(mode):
        on_player = Path(args.root) == Path("/")
        # as `capstan update boot`: on the player, a charger or 30 % of battery to install
        update = functools.partial(boot, power_ok=power_check_for(args.root))

        def restart(report: Any) -> None:
            if on_player:  # into the new firmware, on trial (docs/usb.md)
                subprocess.run(RESTART, check=False)

        drive = UpdateDrive(gadget, image, args.root, this_boot=trial.boot_id,
                            now=time.monotonic, after_install=restart, update=update)
        drive.prepare()
    gadget.up(udc_name())
    print(f"usb: gadget up ({mode}) on {udc_name()}", flush=True)
    try:
        if drive is not None:
            watch(drive, lambda s: stop.wait(s), lambda: not stop.is_set())
        else:
            stop.wait()
    finally:
        gadget.down()
        print("usb: gadget down", flush=True)
    return 0
