"""Password hashing (argon2) and signed, expiring bearer tokens (HMAC-SHA256, no server state)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    user_id: uuid.UUID, *, secret: str, ttl_minutes: int, now: float | None = None
) -> str:
    """A token naming the user and its expiry, signed with the secret key."""
    issued = time.time() if now is None else now
    claims = {"sub": str(user_id), "exp": int(issued + ttl_minutes * 60)}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def read_token(token: str, *, secret: str, now: float | None = None) -> uuid.UUID | None:
    """The user id of a valid, unexpired token; None for anything else."""
    try:
        payload, signature = token.split(".", 1)
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(payload))
        if int(claims["exp"]) < (time.time() if now is None else now):
            return None
        return uuid.UUID(claims["sub"])
    except (ValueError, KeyError, TypeError):
        return None
