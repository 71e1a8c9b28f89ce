"""Encryption at rest for runtime secrets (LLM / embedding API keys).

The key is derived from the installation secret with HKDF, so no extra key file has to be managed
and rotating `CITEWISE_SECRET_KEY` makes old ciphertexts unreadable (they are then treated as unset).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"citewise/app-settings/v1"


class SecretDecryptError(Exception):
    """The stored ciphertext does not decrypt with the current key (secret rotated or tampered)."""


class SecretBox:
    def __init__(self, secret: str) -> None:
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=32,
            salt=hashlib.sha256(b"citewise-settings-salt").digest(), info=_INFO,
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode())))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptError("stored secret cannot be decrypted with the current key") from exc
