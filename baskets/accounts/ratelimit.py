"""Throttling shared by every process: the `limits` package on Redis when a broker (or
BASKETS_RATE_LIMIT_URL) is configured, in memory otherwise.

Login attempts are counted per client address, per account (failures, whatever the address)
and, for e-mails that match no account, globally; sign-ups per address; duplicate lookups
per user. The client address is the peer's, or what a configured proxy forwarded.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from baskets.config import Settings
from baskets.errors import RateLimited

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """One limit: `item` hits per window for each key of the `scope`."""

    scope: str
    item: RateLimitItem


class Throttle:
    """The app's limits, on a storage every worker process shares (memory when alone)."""

    def __init__(self, settings: Settings) -> None:
        url = settings.rate_limit_url or settings.broker_url
        self.shared = bool(url)
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        storage = (storage_from_string(url, key_prefix=settings.rate_limit_prefix,
                                       wrap_exceptions=True) if url else MemoryStorage())
        assert isinstance(storage, Storage)  # a synchronous storage (not limits.aio)
        self._limiter = MovingWindowRateLimiter(storage)
        self.per_address = Rule("address", RateLimitItemPerMinute(
            settings.login_attempts_per_minute))
        self.per_account = Rule("account", RateLimitItemPerHour(
            settings.login_failures_per_account_per_hour))
        self.unknown_accounts = Rule("unknown", RateLimitItemPerMinute(
            settings.login_unknown_attempts_per_minute))
        self.signups = Rule("signup", RateLimitItemPerMinute(settings.login_attempts_per_minute))
        self.duplicate_checks = Rule("duplicates", RateLimitItemPerHour(
            settings.duplicate_checks_per_hour))

    def _call(self, method: str, rule: Rule, key: str) -> bool:
        try:
            return bool(getattr(self._limiter, method)(rule.item, rule.scope, key))
        except Exception as exc:  # noqa: BLE001 - a broker outage must not open the gate
            log.warning("rate-limit storage unavailable (%s); counting in memory",
                        type(exc).__name__)
            return bool(getattr(self._fallback, method)(rule.item, rule.scope, key))

    def hit(self, rule: Rule, key: str) -> bool:
        """Count one attempt; False when the key was already at its limit."""
        return self._call("hit", rule, key)

    def allowed(self, rule: Rule, key: str) -> bool:
        """Whether one more attempt would pass, without counting it."""
        return self._call("test", rule, key)

    def retry_after(self, rule: Rule, key: str) -> int:
        """Whole seconds until the key may try again (at least 1)."""
        try:
            stats = self._limiter.get_window_stats(rule.item, rule.scope, key)
        except Exception:  # noqa: BLE001
            stats = self._fallback.get_window_stats(rule.item, rule.scope, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def refuse(self, rule: Rule, key: str, message_fr: str, message_en: str) -> RateLimited:
        """The 429 to raise for `key`, with its Retry-After."""
        return RateLimited(message_fr, message_en,
                           {"retry_after": self.retry_after(rule, key)},
                           retry_after=self.retry_after(rule, key))


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the peer's, unless the peer is a configured proxy, in which case
    the nearest address of X-Forwarded-For that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    proxies = settings.trusted_proxy_networks()
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [part.strip() for header in request.headers.getlist("x-forwarded-for")
                 for part in header.split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address
    return peer


def _trusted(address: str, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
             ) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def limit_duplicate_lookups(request: Request, user_id: object) -> None:
    """429 once the user has looked up duplicates too often this hour (each lookup tests
    names and phones against the other associations' households)."""
    throttle: Throttle = request.app.state.throttle
    key = str(user_id)
    if not throttle.hit(throttle.duplicate_checks, key):
        raise throttle.refuse(throttle.duplicate_checks, key,
                              "Trop de recherches de doublons ; réessayez plus tard.",
                              "Too many duplicate lookups; try again later.")
