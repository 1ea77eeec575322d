"""Ed25519 keys and signatures in the file formats of minisign (jedisct1/minisign).

Public key: ``untrusted comment: ...`` then base64("Ed" + key id (8) + public key (32)).
Secret key: base64("Ed" + kdf "\\0\\0" or "Sc" + "B2" + salt (32) + opslimit (8) +
memlimit (8) + key id (8) + secret key (64) + blake2b-256 checksum (32)).
Signature: base64(algorithm + key id + signature (64)), a trusted comment, and a
global signature over signature + trusted comment. Algorithm "ED" signs the
BLAKE2b-512 of the message (minisign's default), "Ed" the message itself; both verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from capstan.update.errors import BundleRejected, KeyFileError

UNTRUSTED = "untrusted comment: "
TRUSTED = "trusted comment: "
MAX_COMMENT = 1024


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes  # 8 bytes, shown big-endian in hex like minisign does
    key: bytes  # 32 bytes

    @property
    def id_hex(self) -> str:
        return self.key_id[::-1].hex().upper()

    def to_text(self) -> str:
        blob = base64.b64encode(b"Ed" + self.key_id + self.key).decode()
        return f"{UNTRUSTED}minisign public key {self.id_hex}\n{blob}\n"


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    seed: bytes  # 32 bytes: the Ed25519 private key; minisign stores seed + public key

    def public(self) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        # public_bytes(Raw, Raw), not public_bytes_raw(): Debian 12 has cryptography 38
        pk = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
        return PublicKey(self.key_id, pk)

    def to_text(self) -> str:
        """An unencrypted secret key, as `minisign -G -W` writes it (guard the file!)."""
        sk = self.seed + self.public().key
        checksum = hashlib.blake2b(b"Ed" + self.key_id + sk, digest_size=32).digest()
        blob = b"Ed" + b"\0\0" + b"B2" + bytes(32) + bytes(8) + bytes(8) + self.key_id + sk
        blob += checksum
        return f"{UNTRUSTED}minisign secret key\n{base64.b64encode(blob).decode()}\n"


def generate() -> SecretKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                       NoEncryption())
    return SecretKey(os.urandom(8), seed)


def _b64_line(text: str, what: str, line: int) -> bytes:
    lines = text.splitlines()
    if len(lines) <= line:
        raise KeyFileError(f"{what}: too short; expected a minisign {what}")
    try:
        return base64.b64decode(lines[line].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{what}: line {line + 1} is not base64") from None


def load_public_key(text: str) -> PublicKey:
    """A public key file, or the bare base64 line (`minisign -P` style)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    body = lines[-1] if lines and len(lines) <= 2 else ""
    try:
        raw = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 42 or raw[:2] != b"Ed":
        raise KeyFileError("public key: not a minisign Ed25519 public key")
    return PublicKey(raw[2:10], raw[10:])


def load_secret_key(text: str) -> SecretKey:
    raw = _b64_line(text, "secret key", 1)
    if len(raw) != 158 or raw[:2] != b"Ed" or raw[4:6] != b"B2":
        raise KeyFileError("secret key: not a minisign Ed25519 secret key")
    if raw[2:4] == b"Sc":
        raise KeyFileError("secret key: it is password-protected; sign with the minisign tool "
                           "(tools/make-bundle --minisign) or make a key with --generate-key")
    if raw[2:4] != b"\0\0":
        raise KeyFileError("secret key: unknown key derivation; expected minisign's")
    key_id, sk, checksum = raw[54:62], raw[62:126], raw[126:158]
    # minisign 0.11 writes a zero checksum for unencrypted keys (-W): accept that too.
    want = hashlib.blake2b(b"Ed" + key_id + sk, digest_size=32).digest()
    if checksum not in (want, bytes(32)):
        raise KeyFileError("secret key: checksum mismatch; the file is damaged")
    key = SecretKey(key_id, sk[:32])
    if key.public().key != sk[32:]:
        raise KeyFileError("secret key: the public half does not match; the file is damaged")
    return key


def sign(message: bytes, key: SecretKey, trusted_comment: str,
         untrusted_comment: str = "signature from capstan make-bundle") -> str:
    """A prehashed ("ED") signature file, the same as `minisign -S` makes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise KeyFileError("the trusted comment must be one line")
    private = Ed25519PrivateKey.from_private_bytes(key.seed)
    sig = private.sign(hashlib.blake2b(message, digest_size=64).digest())
    global_sig = private.sign(sig + trusted_comment.encode())
    return (f"{UNTRUSTED}{untrusted_comment}\n"
            f"{base64.b64encode(b'ED' + key.key_id + sig).decode()}\n"
            f"{TRUSTED}{trusted_comment}\n{base64.b64encode(global_sig).decode()}\n")


def verify(message: bytes, signature: bytes, key: PublicKey) -> str:
    """Check a minisign signature; returns the trusted comment or raises BundleRejected."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        lines = signature.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise BundleRejected("signature file is not text; the bundle is damaged") from None
    if lines and lines[-1] == "":
        lines.pop()
    if (len(lines) != 4 or not lines[0].startswith(UNTRUSTED)
            or not lines[2].startswith(TRUSTED) or len(lines[2]) > MAX_COMMENT):
        raise BundleRejected("signature file is not in minisign format; the bundle is damaged")
    try:
        sig_blob = base64.b64decode(lines[1], validate=True)
        global_sig = base64.b64decode(lines[3], validate=True)
    except (binascii.Error, ValueError):
        raise BundleRejected("signature is not valid base64; the bundle is damaged") from None
    if len(sig_blob) != 74 or sig_blob[:2] not in (b"Ed", b"ED") or len(global_sig) != 64:
        raise BundleRejected("signature has the wrong size or algorithm; the bundle is damaged")
    key_id = sig_blob[2:10]
    if key_id != key.key_id:
        raise BundleRejected(
            f"signed by key {key_id[::-1].hex().upper()}, but this player trusts key "
            f"{key.id_hex}: use a bundle signed with the player's key")
    signed = message if sig_blob[:2] == b"Ed" else hashlib.blake2b(message,
                                                                    digest_size=64).digest()
    trusted = lines[2][len(TRUSTED):]
    public = Ed25519PublicKey.from_public_bytes(key.key)
    try:
        public.verify(sig_blob[10:], signed)
    except InvalidSignature:
        raise BundleRejected("signature does not match the manifest: the bundle was altered "
                             "or damaged; download it again") from None
    try:
        public.verify(global_sig, sig_blob[10:] + trusted.encode())
    except InvalidSignature:
        raise BundleRejected("the trusted comment of the signature was altered; "
                             "download the bundle again") from None
    return trusted
