"""Login, tokens, rate limiting and the current user."""

from __future__ import annotations

from fastapi.testclient import TestClient

from baskets.accounts.security import issue_token, read_token
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


def test_expired_or_forged_tokens_are_refused(client: TestClient, world: World) -> None:
    """An expired token and a token signed with another key both answer 401."""
    user_id = world.ids["user_assoc1"]
    expired = issue_token(user_id, secret="test-secret-key-0123456789", ttl_minutes=1, now=0)
    forged = issue_token(user_id, secret="another-key", ttl_minutes=60)
    for token in (expired, forged, "garbage"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_token_round_trip() -> None:
    """A token reads back to its user until it expires."""
    import uuid

    user_id = uuid.uuid4()
    token = issue_token(user_id, secret="k", ttl_minutes=1, now=1000)
    assert read_token(token, secret="k", now=1030) == user_id
    assert read_token(token, secret="k", now=1061) is None
    assert read_token(token + "x", secret="k", now=1030) is None


def test_health_needs_no_token(client: TestClient) -> None:
    """Health and the OpenAPI document are public."""
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200
