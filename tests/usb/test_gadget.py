"""The configfs writer against a plain directory tree shaped like configfs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.usb.configfs import PlainTree

from capstan.usb.gadget import Gadget, GadgetError, GadgetSpec, udc_name


@pytest.fixture
def configfs(tmp_path: Path) -> Path:
    root = tmp_path / "usb_gadget"
    root.mkdir()
    return root


def read(path: Path) -> str:
    return path.read_text().strip()


def test_both_functions_are_written_and_bound_last(configfs: Path, tmp_path: Path) -> None:
    tree = PlainTree()
    image = tmp_path / "drive.img"
    g = Gadget(GadgetSpec("both", image), configfs, tree)
    g.up("dummy_udc.0")
    d = configfs / "capstan"
    assert read(d / "idVendor") == "0x1d6b" and read(d / "idProduct") == "0x0104"
    assert read(d / "strings/0x409/product") == "Capstan cassette player"
    uac2 = d / "functions/uac2.usb0"
    # what the gadget plays is what the computer records: 48 kHz, 16-bit, stereo
    assert [read(uac2 / a) for a in ("p_chmask", "p_srate", "p_ssize", "c_chmask")] == \
        ["3", "48000", "2", "0"]
    lun = d / "functions/mass_storage.usb0/lun.0"
    assert read(lun / "removable") == "1" and read(lun / "ro") == "0"
    assert read(lun / "cdrom") == "0" and read(lun / "file") == str(image)
    config = d / "configs/c.1"
    assert os.readlink(config / "uac2.usb0") == str(uac2)
    assert os.readlink(config / "mass_storage.usb0") == str(uac2.parent / "mass_storage.usb0")
    assert read(d / "UDC") == "dummy_udc.0"
    assert tree.log[-1] == ("write", f"{d / 'UDC'}=dummy_udc.0")  # the computer sees it last
    links = [i for i, (op, _) in enumerate(tree.log) if op == "symlink"]
    assert max(i for i, (op, arg) in enumerate(tree.log)
               if op == "write" and arg.startswith(str(d / "functions"))) < min(links)


def test_audio_only_has_no_drive_and_storage_only_no_sound_card(configfs: Path,
                                                                tmp_path: Path) -> None:
    Gadget(GadgetSpec("audio"), configfs).up("udc")
    functions = configfs / "capstan/functions"
    assert sorted(p.name for p in functions.iterdir()) == ["uac2.usb0"]
    assert sorted(p.name for p in (configfs / "capstan/configs/c.1").iterdir()
                  if p.is_symlink()) == ["uac2.usb0"]
    Gadget(GadgetSpec("storage", tmp_path / "i.img"), configfs, PlainTree()).up("udc")
    assert sorted(p.name for p in functions.iterdir()) == ["mass_storage.usb0"]


def test_down_unbinds_first_and_removes_everything(configfs: Path, tmp_path: Path) -> None:
    tree = PlainTree()
    g = Gadget(GadgetSpec("both", tmp_path / "drive.img"), configfs, tree)
    g.up("udc")
    tree.log.clear()
    g.down()
    d = configfs / "capstan"
    assert tree.log[0] == ("write", f"{d / 'UDC'}=")
    assert [op for op, _ in tree.log[1:3]] == ["unlink", "unlink"]
    assert tree.log[-1] == ("rmdir", str(d))
    assert list(configfs.iterdir()) == []
    g.down()  # nothing left: nothing to do


def test_a_gadget_left_by_an_earlier_run_is_replaced(configfs: Path, tmp_path: Path) -> None:
    Gadget(GadgetSpec("both", tmp_path / "a.img"), configfs, PlainTree()).up("udc")
    Gadget(GadgetSpec("audio"), configfs, PlainTree()).up("udc")
    assert not (configfs / "capstan/functions/mass_storage.usb0").exists()


def test_the_lun_is_attached_until_the_host_ejects(configfs: Path, tmp_path: Path) -> None:
    image = tmp_path / "drive.img"
    g = Gadget(GadgetSpec("storage", image), configfs, PlainTree())
    g.up("udc")
    assert g.attached()
    (g.lun / "file").write_text("\n")  # what f_mass_storage leaves after START STOP UNIT
    assert not g.attached()
    g.attach()
    assert g.attached() and read(g.lun / "file") == str(image)


def test_refusals_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(GadgetError, match="libcomposite"):
        Gadget(GadgetSpec("audio"), tmp_path / "nothing").up("udc")
    with pytest.raises(GadgetError, match="dtoverlay=dwc2"):
        udc_name(tmp_path / "udc")
    (tmp_path / "udc").mkdir()
    (tmp_path / "udc" / "3f980000.usb").mkdir()
    assert udc_name(tmp_path / "udc") == "3f980000.usb"
    with pytest.raises(GadgetError, match="image"):
        Gadget(GadgetSpec("storage"), tmp_path)
    with pytest.raises(GadgetError, match="nothing to set up"):
        Gadget(GadgetSpec("off"), tmp_path)


def test_a_controller_that_refuses_the_gadget_is_one_clear_error(configfs: Path) -> None:
    import errno

    class Refusing(PlainTree):  # as dummy_hcd does for UAC2: no isochronous endpoints
        def write(self, path: Path, value: str) -> None:
            if path.name == "UDC" and value:
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
            super().write(path, value)

    with pytest.raises(GadgetError, match=r"dummy_udc\.0 refused the gadget .*uac2\.usb0"):
        Gadget(GadgetSpec("audio"), configfs, Refusing()).up("dummy_udc.0")
    assert list(configfs.iterdir()) == []  # taken down again
