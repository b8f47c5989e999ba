"""Login, tokens, rate limiting and the current user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

import jwt
from fastapi.testclient import TestClient
from starlette.requests import Request

from baskets.accounts.ratelimit import Throttle, client_address
from baskets.accounts.security import (
    CSRF,
    FINGERPRINTS,
    TOKEN_AUDIENCE,
    TOKENS,
    issue_token,
    key_id,
    read_token,
    sub_key,
)
from baskets.accounts.service import HashGate, log_in
from baskets.config import Settings
from baskets.errors import DomainError
from baskets.web.core import SESSION_COOKIE
from tests.world import PASSWORD, World


def test_login_returns_a_token_that_opens_me(client: TestClient, world: World) -> None:
    """A correct login gives a bearer token that identifies the user."""
    response = client.post("/api/v1/auth/token",
                           data={"username": world.emails["assoc1"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["user"]["email"] == world.emails["assoc1"]
    assert me.json()["organisation"]["kind"] == "association"


def test_wrong_password_is_401_in_french(client: TestClient, world: World) -> None:
    """A wrong password answers 401 with the French message by default."""
    response = client.post("/api/v1/auth/token",
                           data={"username": world.emails["assoc1"], "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Adresse e-mail ou mot de passe incorrect."


def test_english_on_request(client: TestClient, world: World) -> None:
    """Accept-Language: en switches the error message to English."""
    response = client.get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthorized", "message": "Authentication required.", "details": None}


def test_login_is_rate_limited(client: TestClient, world: World) -> None:
    """Past the per-minute limit (5 in tests), even a correct password gets 429."""
    for _ in range(5):
        client.post("/api/v1/auth/token",
                    data={"username": world.emails["coord1"], "password": "wrong-password"})
    response = client.post("/api/v1/auth/token",
                           data={"username": world.emails["coord1"], "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_expired_or_forged_tokens_are_refused(client: TestClient, world: World,
                                              settings: Settings) -> None:
    """An expired token, a token signed with another key, one signed with the master key
    itself (not the tokens sub-key) and a token of the old hand-made format all answer 401."""
    user_id = world.ids["user_admin"]
    expired = issue_token(user_id, secret=settings.secret_key, ttl_minutes=1, now=0)
    forged = issue_token(user_id, secret="another-key-of-at-least-32-bytes!!", ttl_minutes=60)
    master_signed = jwt.encode(
        {"sub": str(user_id), "ver": 0, "iat": int(time.time()),
         "exp": int(time.time()) + 600, "aud": TOKEN_AUDIENCE},
        settings.secret_key, algorithm="HS256",
        headers={"kid": key_id(settings.secret_key)})
    payload = base64.urlsafe_b64encode(json.dumps(
        {"sub": str(user_id), "exp": int(time.time()) + 600}).encode()).rstrip(b"=").decode()
    old_format = payload + "." + base64.urlsafe_b64encode(hmac.new(
        settings.secret_key.encode(), payload.encode(), hashlib.sha256).digest()
    ).rstrip(b"=").decode()
    for token in (expired, forged, master_signed, old_format, "garbage"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def test_token_round_trip() -> None:
    """A token reads back to its user and version until it expires."""
    import uuid

    user_id = uuid.uuid4()
    key = "k" * 32
    token = issue_token(user_id, secret=key, ttl_minutes=1, version=3, now=1000)
    claims = read_token(token, secret=key, now=1030)
    assert claims is not None
    assert (claims.user_id, claims.version, claims.issued_at) == (user_id, 3, 1000)
    assert read_token(token, secret=key, now=1061) is None
    assert read_token(token + "x", secret=key, now=1030) is None
    assert read_token(token, secret="j" * 32, now=1030) is None


def test_sub_keys_differ_by_purpose() -> None:
    """Tokens, form tokens and fingerprints each get their own key, none the master key."""
    keys = {sub_key("m" * 32, purpose) for purpose in (TOKENS, CSRF, FINGERPRINTS)}
    assert len(keys) == 3
    assert ("m" * 32).encode() not in keys


def _login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    """After logout, the bearer token (and any other token of the account) answers 401."""
    first = _login(client, world.emails["assoc1"])
    second = _login(client, world.emails["assoc1"])
    assert _me(client, first) == _me(client, second) == 200
    response = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 204
    assert _me(client, first) == _me(client, second) == 401
    assert _me(client, _login(client, world.emails["assoc1"])) == 200


def test_password_change_revokes_and_gives_a_new_token(client: TestClient,
                                                        world: World) -> None:
    """Changing one's password ends every older session; the answer's token works, and the
    old password no longer logs in."""
    old = _login(client, world.emails["coord1"])
    headers = {"Authorization": f"Bearer {old}"}
    wrong = client.post("/api/v1/me/password", headers=headers, json={
        "current_password": "not-the-password", "new_password": "une-phrase-bien-longue"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["field"] == "current_password"
    changed = client.post("/api/v1/me/password", headers=headers, json={
        "current_password": PASSWORD, "new_password": "une-phrase-bien-longue"})
    assert changed.status_code == 200, changed.text
    assert _me(client, old) == 401
    assert _me(client, changed.json()["access_token"]) == 200
    refused = client.post("/api/v1/auth/token",
                          data={"username": world.emails["coord1"], "password": PASSWORD})
    assert refused.status_code == 401
    assert _me(client, _login(client, world.emails["coord1"], "une-phrase-bien-longue")) == 200


def test_deactivation_revokes(client: TestClient, world: World) -> None:
    """An admin deactivates an account: its tokens stop at once and it cannot log in."""
    token = _login(client, world.emails["company1"])
    response = client.post(f"/api/v1/users/{world.ids['user_company1']}/deactivate",
                           headers=world.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert _me(client, token) == 401
    login = client.post("/api/v1/auth/token",
                        data={"username": world.emails["company1"], "password": PASSWORD})
    assert login.status_code == 401


def test_page_logout_revokes_the_cookie(client: TestClient, world: World) -> None:
    """Logging out of the site ends the cookie session: the old cookie opens nothing."""
    page = client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    logged = client.post("/login", data={"email": world.emails["assoc1"], "password": PASSWORD,
                                         "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert logged.status_code == 303
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    assert client.get("/households").status_code == 200
    home = client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf is not None
    out = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(SESSION_COOKIE, cookie)
    again = client.get("/households", follow_redirects=False)
    assert again.status_code == 303  # back to the login page
    assert _me(client, cookie) == 401


def test_health_needs_no_token(client: TestClient) -> None:
    """Health and the OpenAPI document are public."""
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200


def _throttled_login(world: World, session_factory: Any, **limits: int) -> Any:
    settings = Settings(secret_key="t" * 32, **limits)
    throttle, gate = Throttle(settings), HashGate(settings)

    def attempt(email: str, password: str, address: str) -> int:
        try:
            log_in(session_factory, email=email, password=password, address=address,
                   throttle=throttle, gate=gate)
        except DomainError as exc:
            return exc.status_code
        return 200

    return attempt


def test_throttle_per_address_per_account_and_unknown_emails(world: World,
                                                              session_factory: Any) -> None:
    """Guesses are counted per address over all accounts (12 accounts x 10 guesses went
    through), per account over all addresses, and globally for unknown e-mails."""
    attempt = _throttled_login(world, session_factory, login_attempts_per_minute=3,
                               login_failures_per_account_per_hour=4,
                               login_unknown_attempts_per_minute=2)
    accounts = ["assoc1", "assoc2", "coord1", "coord2"]
    statuses = [attempt(world.emails[who], "wrong-password", "10.0.0.1") for who in accounts]
    assert statuses == [401, 401, 401, 429]  # one address, whatever the account
    # One account, four addresses: its fifth failure is refused, even with the right password.
    for n in range(3):
        assert attempt(world.emails["company1"], "wrong-password", f"10.0.1.{n}") == 401
    assert attempt(world.emails["company1"], "wrong-password", "10.0.1.9") == 401
    assert attempt(world.emails["company1"], PASSWORD, "10.0.2.1") == 429
    # Unknown e-mails from many addresses: a global budget.
    unknown = [attempt(f"nobody{n}@example.org", "whatever-pass", f"10.0.3.{n}")
               for n in range(3)]
    assert unknown == [401, 401, 429]
    assert attempt(world.emails["company2"], PASSWORD, "10.0.4.1") == 200


def test_forwarded_for_is_believed_only_from_trusted_proxies(client: TestClient,
                                                             world: World) -> None:
    """A new X-Forwarded-For per attempt no longer escapes the per-address limit (5 in
    tests); behind a configured proxy, the forwarded address is the client's."""
    for n in range(5):
        client.post("/api/v1/auth/token", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                    data={"username": world.emails["coord1"], "password": "wrong-password"})
    refused = client.post("/api/v1/auth/token", headers={"X-Forwarded-For": "203.0.113.99"},
                          data={"username": world.emails["coord1"], "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    proxy = Settings(secret_key="t" * 32, trusted_proxies="10.0.0.0/8")
    request = Request({"type": "http", "client": ("10.1.2.3", 4000), "headers": [
        (b"x-forwarded-for", b"198.51.100.7, 10.9.9.9")]})
    assert client_address(request, proxy) == "198.51.100.7"
    direct = Request({"type": "http", "client": ("192.0.2.1", 4000), "headers": [
        (b"x-forwarded-for", b"198.51.100.7")]})
    assert client_address(direct, proxy) == "192.0.2.1"


def test_common_passwords_and_ones_holding_the_email_are_refused(
        client: TestClient, world: World, session: Any) -> None:
    """Sign-up and account creation refuse the most common passwords and those containing
    the e-mail (422 on the password field, French by default); nothing is created."""
    from baskets.territory.models import Territory

    territory = session.get(Territory, world.ids["t1"])
    base = {"territory_code": territory.code, "full_name": "Léa M.", "home_area": "Marseille",
            "lat": 43.3, "lon": 5.4}
    for email, password in (("lea@example.org", "azertyuiop"), ("lea@example.org", "1234567890"),
                            ("marcel.pagnol@example.org", "marcel.pagnol-2026")):
        response = client.post("/api/v1/volunteers/signup",
                               json=base | {"email": email, "password": password})
        assert response.status_code == 422, (password, response.text)
        assert response.json()["error"]["details"][0]["field"] == "password"
    created = client.post("/api/v1/users", headers=world.auth("admin"), json={
        "organisation_id": str(world.ids["assoc1"]), "email": "motdepasse@assoc.example",
        "full_name": "Nouvel accueil", "role": "association", "password": "motdepasse123"})
    assert created.status_code == 422
    assert client.post("/api/v1/auth/token", data={"username": "lea@example.org",
                                                   "password": "azertyuiop"}).status_code == 401


def test_disabled_accounts_take_as_long_as_wrong_passwords(client: TestClient, world: World,
                                                           session: Any) -> None:
    """A disabled account runs the same password hash (it answered in 6 ms against 231 ms),
    so timing does not tell it apart."""
    from baskets.accounts.models import User

    user = session.get(User, world.ids["user_company2"])
    user.is_active = False
    session.commit()

    def duration(email: str) -> float:
        start = time.perf_counter()
        response = client.post("/api/v1/auth/token",
                               data={"username": email, "password": PASSWORD})
        assert response.status_code == 401
        return time.perf_counter() - start

    disabled = min(duration(world.emails["company2"]) for _ in range(2))
    wrong = min(duration(world.emails["assoc2"] + "x") for _ in range(2))
    assert disabled > 0.5 * wrong
