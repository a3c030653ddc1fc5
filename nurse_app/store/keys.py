"""The unlocked passphrase and the keys derived from it, held in memory only.

A record is encrypted with SQLCipher 4's default key derivation: PBKDF2-HMAC-SHA512,
256,000 iterations, over the passphrase and the 16-byte salt SQLCipher keeps at the
start of the file.  That is deliberately slow (about 0.3 s), so it is done once per
(passphrase, salt) in a process and the derived 32-byte key is kept here and given to
SQLCipher in its raw-key form ``x'<key><salt>'`` on every later open.  SQLCipher then
uses exactly the key it would have derived itself, so any SQLCipher tool still opens
the file with ``PRAGMA key = 'the passphrase'``.

Files created in this process (a new record, its backups) share one random salt per
passphrase, so a new file costs no second derivation.

Nothing here is ever written anywhere: not to disk, QSettings, logs or messages.
:func:`lock` forgets the passphrase and every derived key.
"""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata

from nurse_app.store.process import harden

ENV_VAR = "NURSE_APP_PASSPHRASE"  # the headless way to give it (never an argument)
KDF_ITERATIONS = 256_000  # SQLCipher 4 default (kdf_iter)
KDF_HASH = "sha512"  # SQLCipher 4 default (PBKDF2_HMAC_SHA512)
KEY_BYTES = 32
SALT_BYTES = 16

_lock = threading.Lock()
_passphrase: str | None = None
_alternates: list[str] = []  # older passphrases the nurse gave (old backups)
_variants: list[str] = []  # the unlocked one as typed, if not NFC (records made before)
_derived: dict[tuple[str, bytes], bytes] = {}
_new_salts: dict[str, bytes] = {}


class Locked(Exception):
    """Internal: no passphrase is unlocked in this process."""


def derive_once(passphrase: str, salt: bytes) -> bytes:
    """SQLCipher 4's key for ``passphrase`` and ``salt``, not kept (a typed guess)."""
    return hashlib.pbkdf2_hmac(KDF_HASH, passphrase.encode("utf-8"), salt, KDF_ITERATIONS, KEY_BYTES)


def derive(passphrase: str, salt: bytes) -> bytes:
    """SQLCipher 4's key for ``passphrase`` and a file's ``salt`` (cached in memory)."""
    with _lock:
        found = _derived.get((passphrase, salt))
    if found is None:
        found = derive_once(passphrase, salt)
        with _lock:
            _derived[(passphrase, salt)] = found
    return found


def unlock(passphrase: str) -> None:
    """Use ``passphrase`` for every record opened from now on in this process."""
    global _passphrase
    if not passphrase:
        raise ValueError("empty passphrase")
    harden()  # from now on a core dump would hold it
    chosen = normalised(passphrase)
    with _lock:
        _passphrase = chosen
        _variants[:] = [v for v in dict.fromkeys(variants(passphrase)) if v != chosen]


def normalised(passphrase: str) -> str:
    """The passphrase as the key is derived from it: Unicode NFC, so "Crème" typed with a
    precomposed "è" or with "e" and a combining accent is the same passphrase."""
    return unicodedata.normalize("NFC", passphrase)


def variants(passphrase: str) -> list[str]:
    """Other forms of ``passphrase`` a record made before normalisation may be keyed with:
    exactly as typed, and NFD (a keyboard that sends decomposed accents)."""
    return [passphrase, unicodedata.normalize("NFD", passphrase)]


def is_variant(passphrase: str) -> bool:
    """True if ``passphrase`` is an unnormalised form of the unlocked one (a file keyed with
    it is rekeyed to the normalised form when opened)."""
    with _lock:
        return passphrase in _variants


def add_alternate(passphrase: str) -> None:
    """Also try ``passphrase`` for files the current one does not open (older backups)."""
    with _lock:
        for form in (normalised(passphrase), *variants(passphrase)) if passphrase else ():
            if form not in _alternates:
                _alternates.append(form)


def lock() -> None:
    """Forget the passphrase, the alternates and every derived key."""
    global _passphrase
    with _lock:
        _passphrase = None
        _variants.clear()
        _alternates.clear()
        _derived.clear()
        _new_salts.clear()


def is_unlocked() -> bool:
    return _passphrase is not None


def _unlock_from_environment() -> None:
    """Headless use of the store (scripts, worker processes): NURSE_APP_PASSPHRASE."""
    if _passphrase is None and os.environ.get(ENV_VAR):
        unlock(os.environ[ENV_VAR])


def current() -> str:
    _unlock_from_environment()  # e.g. encrypting a plain record opened by a script
    if _passphrase is None:
        raise Locked()
    return _passphrase


def candidates() -> list[str]:
    """Passphrases to try on an existing file: the unlocked one first."""
    _unlock_from_environment()
    with _lock:
        if _passphrase is None:
            raise Locked()
        tries = [_passphrase, *_variants, *_alternates]
    return list(dict.fromkeys(tries))


def new_file_salt(passphrase: str) -> bytes:
    """The salt for files this process creates with ``passphrase``."""
    with _lock:
        salt = _new_salts.get(passphrase)
        if salt is None:
            salt = _new_salts[passphrase] = os.urandom(SALT_BYTES)
        return salt


def raw_key(passphrase: str, salt: bytes) -> str:
    """SQLCipher's raw key-and-salt literal (for ``PRAGMA key``/``ATTACH ... KEY``)."""
    return f"x'{derive(passphrase, salt).hex()}{salt.hex()}'"
