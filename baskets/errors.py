"""Domain errors: each carries its HTTP status, a stable code and a French and English message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user may see; one handler renders it in the asked language."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message_fr: str, message_en: str, details: Any = None, *,
                 retry_after: int | None = None) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en
        self.details = details
        # Seconds after which the client may try again (sent as Retry-After).
        self.retry_after = retry_after

    def message(self, locale: str) -> str:
        """The message in `locale` ('fr' or 'en')."""
        return self.message_en if locale == "en" else self.message_fr


class NotFound(DomainError):
    """Missing, or belonging to another organisation: both answer the same."""

    status_code = 404
    code = "not_found"

    def __init__(self, what_fr: str = "Ressource", what_en: str = "Resource") -> None:
        super().__init__(f"{what_fr} introuvable.", f"{what_en} not found.")


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__(
            "Votre rôle ne permet pas cette opération.",
            "Your role does not allow this operation.",
        )


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ConfirmationRequired(Conflict):
    """The operation would undo or risk something people did (a basket handed out, a stop
    done, a round outside one's availability): the client asks the person, then repeats the
    request with the confirmation flag (`confirm=true`)."""

    code = "confirmation_required"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(DomainError):
    """Overloaded for a moment (every slot, connection or lock taken): try again shortly."""

    status_code = 503
    code = "unavailable"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(
            "Le service est très sollicité ; réessayez dans un instant. Rien n'a été enregistré.",
            "The service is very busy; try again in a moment. Nothing was saved.",
            {"retry_after": retry_after}, retry_after=retry_after,
        )


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
