"""Decode what the headphones would hear: RTP packets of SBC frames, through libsbc.

libsbc1 (the codec library BlueALSA itself encodes with) is a dependency of
bluez-alsa-utils; ctypes reaches it without any Python package.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

RTP_HEADER = 12  # RFC 3550 fixed header, no CSRCs
MEDIA_HEADER = 1  # A2DP SBC media payload header: F S L RFA, frame count in the low 4 bits


class _Sbc(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_ulong),
        ("frequency", ctypes.c_uint8),
        ("blocks", ctypes.c_uint8),
        ("subbands", ctypes.c_uint8),
        ("mode", ctypes.c_uint8),
        ("allocation", ctypes.c_uint8),
        ("bitpool", ctypes.c_uint8),
        ("endian", ctypes.c_uint8),
        ("priv", ctypes.c_void_p),
        ("priv_alloc_base", ctypes.c_void_p),
    ]


def _libsbc() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("sbc") or "libsbc.so.1")
    lib.sbc_init.argtypes = [ctypes.POINTER(_Sbc), ctypes.c_ulong]
    lib.sbc_decode.argtypes = [ctypes.POINTER(_Sbc), ctypes.c_void_p, ctypes.c_size_t,
                               ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.sbc_decode.restype = ctypes.c_ssize_t
    lib.sbc_finish.argtypes = [ctypes.POINTER(_Sbc)]
    return lib


def sbc_payload(packets: list[bytes]) -> bytes:
    """The SBC frames carried by A2DP RTP packets, in order."""
    frames = bytearray()
    for packet in packets:
        if len(packet) <= RTP_HEADER + MEDIA_HEADER or packet[0] >> 6 != 2:
            raise ValueError(f"not an RTP version 2 packet: {packet[:4].hex()}")
        frames += packet[RTP_HEADER + MEDIA_HEADER:]
    return bytes(frames)


def decode_sbc(frames: bytes, channels: int = 2) -> np.ndarray:
    """Decode a stream of SBC frames to int16 samples, shape (frames, channels)."""
    lib = _libsbc()
    sbc = _Sbc()
    if lib.sbc_init(ctypes.byref(sbc), 0) != 0:
        raise RuntimeError("sbc_init failed")
    out = bytearray()
    pcm = ctypes.create_string_buffer(8192)
    written = ctypes.c_size_t(0)
    data = ctypes.create_string_buffer(frames, len(frames))
    pos = 0
    try:
        while pos < len(frames):
            used = lib.sbc_decode(ctypes.byref(sbc), ctypes.byref(data, pos), len(frames) - pos,
                                  pcm, len(pcm), ctypes.byref(written))
            if used <= 0:
                break
            out += pcm.raw[: written.value]
            pos += used
    finally:
        lib.sbc_finish(ctypes.byref(sbc))
    return np.frombuffer(bytes(out), dtype="<i2").reshape(-1, channels)
