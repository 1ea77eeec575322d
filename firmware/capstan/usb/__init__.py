"""The USB-C port as a USB gadget (docs/usb.md): a sound card and a drive for updates.

`gadget` writes the composite gadget into configfs (libcomposite), `drive` keeps the
FAT image behind the mass-storage function and takes bundles off it when the computer
ejects it, `audio` plays the tape into the gadget's sound card, `cli` is `capstan usb`.
"""

MODES = ("off", "audio", "storage", "both")


def wants_audio(mode: str) -> bool:
    return mode in ("audio", "both")


def wants_storage(mode: str) -> bool:
    return mode in ("storage", "both")
