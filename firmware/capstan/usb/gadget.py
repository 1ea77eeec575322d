"""The composite gadget in configfs: UAC2 (the tape as a 48 kHz stereo recording) and
mass storage (the update drive), bound to the port's device controller (dwc2 on the Pi).

    /sys/kernel/config/usb_gadget/capstan/
        idVendor, idProduct, bcdDevice, bcdUSB, strings/0x409/{manufacturer,product,...}
        functions/uac2.usb0/{p_chmask,p_srate,p_ssize,c_chmask,...}
        functions/mass_storage.usb0/lun.0/{removable,ro,cdrom,inquiry_string,file}
        configs/c.1/{MaxPower,strings/0x409/configuration}, links to the functions
        UDC  (written last: the computer sees the device from then on)

UAC2 is named from the gadget's side: what the gadget *plays* (p_*) is what the
computer records. c_chmask = 0 leaves out the other direction: the computer cannot
play into the player. Teardown is the reverse, each directory removed with rmdir
(configfs takes a directory's attributes away with it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from capstan.errors import CapstanError
from capstan.usb import wants_audio, wants_storage

CONFIGFS = Path("/sys/kernel/config/usb_gadget")
UDC_CLASS = Path("/sys/class/udc")
NAME = "capstan"
VENDOR, PRODUCT = 0x1D6B, 0x0104  # Linux Foundation, Multifunction Composite Gadget
RATE, SAMPLE_BYTES, CHANNELS = 48000, 2, 2
AUDIO_FUNCTION = "uac2.usb0"
STORAGE_FUNCTION = "mass_storage.usb0"
CONFIG = "c.1"
ENGLISH = "0x409"


class GadgetError(CapstanError):
    """The gadget cannot be set up: one line naming what is missing."""


class Tree:
    """The configfs operations, so that a test can run them in a plain directory."""

    def mkdir(self, path: Path) -> None:
        path.mkdir(exist_ok=True)

    def write(self, path: Path, value: str) -> None:
        with open(path, "w") as f:  # configfs: one write() per attribute
            f.write(value or "\n")  # "" must still be written: a newline is read as empty

    def read(self, path: Path) -> str:
        return path.read_text().strip()

    def symlink(self, target: Path, path: Path) -> None:
        os.symlink(target, path)

    def unlink(self, path: Path) -> None:
        path.unlink()

    def rmdir(self, path: Path) -> None:
        path.rmdir()


@dataclass(frozen=True)
class GadgetSpec:
    mode: str  # "audio", "storage" or "both"
    image: Path | None = None  # the drive's FAT image (storage)
    product: str = "Capstan cassette player"
    manufacturer: str = "Capstan"
    serial: str = "capstan"


def udc_name(udc_class: Path = UDC_CLASS) -> str:
    """The first USB device controller (dwc2's on the Pi, dummy_udc.0 on the virtual Pi)."""
    try:
        names = sorted(p.name for p in udc_class.iterdir())
    except OSError:
        names = []
    if not names:
        raise GadgetError(f"no USB device controller in {udc_class}: add dtoverlay=dwc2 to "
                          "/boot/firmware/config.txt (docs/usb.md) and reboot")
    return names[0]


class Gadget:
    def __init__(self, spec: GadgetSpec, root: Path = CONFIGFS, tree: Tree | None = None,
                 name: str = NAME) -> None:
        if spec.mode not in ("audio", "storage", "both"):
            raise GadgetError(f"usb.gadget = {spec.mode!r}: nothing to set up")
        if wants_storage(spec.mode) and spec.image is None:
            raise GadgetError("the storage function needs the drive's image file")
        self.spec, self.tree = spec, tree or Tree()
        self.root, self.dir = root, root / name

    @property
    def functions(self) -> list[str]:
        out = []
        if wants_audio(self.spec.mode):
            out.append(AUDIO_FUNCTION)
        if wants_storage(self.spec.mode):
            out.append(STORAGE_FUNCTION)
        return out

    @property
    def lun(self) -> Path:
        """The mass-storage LUN's directory: its `file` is the image while attached."""
        return self.dir / "functions" / STORAGE_FUNCTION / "lun.0"

    def up(self, udc: str) -> None:
        """Create the gadget and bind it to `udc`; a gadget left by an earlier run goes first."""
        if not self.root.is_dir():
            raise GadgetError(f"no {self.root}: load libcomposite and mount configfs "
                              "(modprobe libcomposite)")
        if self.dir.exists():
            self.down()
        t, d, s = self.tree, self.dir, self.spec
        t.mkdir(d)
        for attr, value in (("idVendor", f"0x{VENDOR:04x}"), ("idProduct", f"0x{PRODUCT:04x}"),
                            ("bcdDevice", "0x0100"), ("bcdUSB", "0x0200")):
            t.write(d / attr, value)
        strings = d / "strings" / ENGLISH
        self._mkdirs(d / "strings", strings)
        for attr, value in (("manufacturer", s.manufacturer), ("product", s.product),
                            ("serialnumber", s.serial)):
            t.write(strings / attr, value)
        config = d / "configs" / CONFIG
        self._mkdirs(d / "configs", config, config / "strings", config / "strings" / ENGLISH)
        t.write(config / "strings" / ENGLISH / "configuration", "Capstan")
        t.write(config / "MaxPower", "100")
        self._mkdirs(d / "functions")
        if wants_audio(s.mode):
            f = d / "functions" / AUDIO_FUNCTION
            t.mkdir(f)
            for attr, value in (("p_chmask", "3"), ("p_srate", str(RATE)),
                                ("p_ssize", str(SAMPLE_BYTES)), ("c_chmask", "0"),
                                ("p_volume_present", "0"), ("p_mute_present", "0"),
                                ("function_name", "Capstan tape")):
                t.write(f / attr, value)
        if wants_storage(s.mode):
            f = d / "functions" / STORAGE_FUNCTION
            t.mkdir(f)
            t.write(f / "stall", "1")
            lun = f / "lun.0"
            t.mkdir(lun)  # configfs makes lun.0 with the function; a plain tree does not
            for attr, value in (("removable", "1"), ("ro", "0"), ("cdrom", "0"),
                                ("nofua", "0"), ("inquiry_string", "Capstan Update drive")):
                t.write(lun / attr, value)
            t.write(lun / "file", str(s.image))
        for fn in self.functions:
            t.symlink(d / "functions" / fn, config / fn)
        try:
            t.write(d / "UDC", udc)
        except OSError as exc:
            self.down()
            raise GadgetError(f"the controller {udc} refused the gadget ({exc.strerror}): "
                              f"it lacks an endpoint one of {', '.join(self.functions)} "
                              "needs (the kernel log names it)") from None

    def _mkdirs(self, *paths: Path) -> None:
        for p in paths:
            self.tree.mkdir(p)

    def down(self) -> None:
        """Unbind and remove the gadget (whatever of it is there)."""
        t, d = self.tree, self.dir
        if not d.exists():
            return
        if (d / "UDC").exists() and t.read(d / "UDC"):
            t.write(d / "UDC", "")
        config = d / "configs" / CONFIG
        for fn in (AUDIO_FUNCTION, STORAGE_FUNCTION):
            if (config / fn).is_symlink():
                t.unlink(config / fn)
        for p in (config / "strings" / ENGLISH, config,
                  d / "functions" / AUDIO_FUNCTION,
                  d / "functions" / STORAGE_FUNCTION, d / "strings" / ENGLISH):
            if p.is_dir():
                t.rmdir(p)
        t.rmdir(d)

    # the drive's medium -------------------------------------------------------
    def attached(self) -> bool:
        """The LUN has its image: the host's eject (START STOP UNIT) empties `file`."""
        return bool(self.tree.read(self.lun / "file"))

    def attach(self) -> None:
        self.tree.write(self.lun / "file", str(self.spec.image))

    def detach(self) -> None:
        """Take the medium away (forced_eject: even while the host holds it)."""
        self.tree.write(self.lun / "forced_eject", "1")
