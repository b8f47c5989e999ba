"""Property-based run over the OpenAPI document: no generated request makes a server error.

Schemathesis generates requests for every operation of the document; each is sent as an
association, a coordinator and a company user so the role-specific paths are exercised.
(schemathesis' pytest fixture loader does not run on pytest 9, so its strategies are drawn
with Hypothesis directly.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.world import World

EXAMPLES_PER_OPERATION = 4


def test_no_server_error_on_any_operation(app: FastAPI, client: TestClient, world: World) -> None:
    """Generated requests never get a 5xx, and documented answers match their schema."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        _property_for(operation, world)()


def _property_for(operation: Any, world: World) -> Any:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data: Any) -> None:
        case = data.draw(operation.as_strategy())
        for who in ("assoc1", "coord1", "company1"):
            case.call_and_validate(headers=world.auth(who),
                                   checks=[not_a_server_error, response_schema_conformance])

    return check
