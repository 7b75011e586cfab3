"""Private keys sealed with the passphrase, for the database backend: AES-256-GCM under a key
that scrypt derives from AUTHSERVER_KEYS_PASSPHRASE, with a fresh salt and nonce per key and
the kid as associated data (a sealed key copied into another row does not open).

Why not the PKCS#8 encryption the files in keys/ use: cryptography writes it with PBKDF2 at
2,048 iterations and no way to raise them, and a database dump or replica is the likelier
leak, so each passphrase guess should cost more. scrypt at n=2^15, r=8 (32 MiB, about 0.1 s
here) makes it so; a process pays that once per key (database.py keeps what it opened, by
kid: a kid is its key's thumbprint, so the key behind a kid never changes).

Written by hand from cryptography's primitives (Scrypt, AESGCM): no maintained library seals
a blob with a passphrase in a text form a column can hold.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..hashing import fast_hashing
from .lifecycle import KeyStoreError

FORMAT = "scrypt-aes256gcm-v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
TEST_SCRYPT_N = 2**10  # AUTHSERVER_TEST_FAST_HASHING (hashing.py): the test suite only


class WrongPassphrase(KeyStoreError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def seal(secret: bytes, passphrase: bytes, kid: str) -> str:
    salt, nonce = os.urandom(16), os.urandom(12)
    n = TEST_SCRYPT_N if fast_hashing() else SCRYPT_N
    key = _derive(passphrase, salt, n, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, secret, kid.encode())
    return "$".join([FORMAT, str(n), str(SCRYPT_R), str(SCRYPT_P),
                     _b64(salt), _b64(nonce), _b64(sealed)])


def unseal(text: str, passphrase: bytes, kid: str) -> bytes:
    try:
        form, n, r, p, salt, nonce, sealed = text.split("$")
        if form != FORMAT:
            raise ValueError(form)
        key = _derive(passphrase, _unb64(salt), int(n), int(r), int(p))
        return AESGCM(key).decrypt(_unb64(nonce), _unb64(sealed), kid.encode())
    except InvalidTag:
        raise WrongPassphrase(
            f"cannot open the key {kid}: wrong AUTHSERVER_KEYS_PASSPHRASE (or the key was "
            "copied from another row)") from None
    except ValueError:
        raise KeyStoreError(f"the stored key {kid} is corrupt; restore it from a backup") from None
