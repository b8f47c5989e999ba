"""Passwords (argon2), sub-keys derived from the secret key, and revocable bearer tokens.

Tokens are JWTs (HS256, PyJWT) signed with the tokens sub-key, never with the secret key
itself: `sub` (the user), `ver` (the user's token version), `iat`, `exp`, `aud` and a key id
in the header. A token is good only while `ver` equals the user's stored version, so logging
out, changing one's password or being deactivated (`revoke_sessions`) ends every session of
the account at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

TOKEN_AUDIENCE = "baskets"
TOKEN_ALGORITHM = "HS256"
# Purposes of the sub-keys: one key per use, so a value signed for one can never pass for
# another (a CSRF token as an access token, a fingerprint as either).
TOKENS, CSRF, FINGERPRINTS = "tokens", "csrf", "household-fingerprints"


def hash_password(password: str) -> str:
    """Argon2id hash of `password` (slow on purpose: never call it inside a transaction)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash (slow: never inside a transaction)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sub_key(secret: str, purpose: str) -> bytes:
    """The key of one purpose, derived from the secret key (HMAC-SHA256, as HKDF-Expand)."""
    return hmac.new(secret.encode(), f"baskets-subkey-v1|{purpose}".encode(),
                    hashlib.sha256).digest()


def key_id(secret: str) -> str:
    """A short public name of the tokens key, so a rotated key can be told apart."""
    return hashlib.sha256(sub_key(secret, TOKENS)).hexdigest()[:12]


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is and which token version it was issued under."""

    user_id: uuid.UUID
    version: int
    issued_at: int


def issue_token(user_id: uuid.UUID, *, secret: str, ttl_minutes: int, version: int = 0,
                now: float | None = None) -> str:
    """A signed token for the user at their current token `version`, expiring after the TTL."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": str(user_id), "ver": version, "iat": issued,
              "exp": issued + ttl_minutes * 60, "aud": TOKEN_AUDIENCE}
    return jwt.encode(claims, sub_key(secret, TOKENS), algorithm=TOKEN_ALGORITHM,
                      headers={"kid": key_id(secret)})


def read_token(token: str, *, secret: str, now: float | None = None) -> TokenClaims | None:
    """The claims of a well-signed, unexpired token for this audience; None for anything else.

    The caller still compares `version` with the user's stored token version.
    """
    try:
        if jwt.get_unverified_header(token).get("kid") != key_id(secret):
            return None
        claims = jwt.decode(token, sub_key(secret, TOKENS), algorithms=[TOKEN_ALGORITHM],
                            audience=TOKEN_AUDIENCE,
                            options={"require": ["sub", "ver", "iat", "exp", "aud"],
                                     "verify_exp": now is None})
        if now is not None and int(claims["exp"]) < now:
            return None
        return TokenClaims(user_id=uuid.UUID(str(claims["sub"])), version=int(claims["ver"]),
                           issued_at=int(claims["iat"]))
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
