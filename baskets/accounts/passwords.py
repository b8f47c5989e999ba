"""What a new password must not be: one of the most common, or something containing the
account's e-mail address (the list ships with the package; nothing is downloaded)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str | None) -> tuple[str, str] | None:
    """Why `password` is refused for the account `email` (French, English), else None."""
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return ("Ce mot de passe fait partie des plus courants ; choisissez-en un autre.",
                "This password is one of the most common; choose another one.")
    if email:
        address = email.lower()
        local = address.split("@", 1)[0]
        if address in lowered or (len(local) >= 4 and local in lowered):
            return ("Le mot de passe ne doit pas contenir votre adresse e-mail.",
                    "The password must not contain your e-mail address.")
    return None


def check_new_password(password: str, email: str | None) -> str:
    """`password` unchanged, or a ValueError in the "French | English" form validators use."""
    problem = password_problem(password, email)
    if problem is not None:
        raise ValueError(" | ".join(problem))
    return password
