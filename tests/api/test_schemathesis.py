"""Property-based run over the OpenAPI document: no generated request makes a server error.

Schemathesis generates requests for every operation of the document; each is sent with the
tokens of three roles, taken in turn among all five (association, coordinator, company,
volunteer, admin), so every role's paths are exercised at the cost of three calls per case.
`BASKETS_SCHEMATHESIS_EXAMPLES=200` (an opt-in, bigger run for the figure) sends every case
with all five tokens.
(schemathesis' pytest fixture loader does not run on pytest 9, so its strategies are drawn
with Hypothesis directly.)
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.world import World

EXAMPLES_PER_OPERATION = int(os.environ.get("BASKETS_SCHEMATHESIS_EXAMPLES", "4"))
ROLES = ("assoc1", "coord1", "company1", "volunteer1", "admin")
EVERY_ROLE = "BASKETS_SCHEMATHESIS_EXAMPLES" in os.environ


def test_no_server_error_on_any_operation(app: FastAPI, client: TestClient, world: World) -> None:
    """Generated requests never get a 5xx, and documented answers match their schema."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        _property_for(operation, world)()


_turns = itertools.cycle(range(len(ROLES)))


def _property_for(operation: Any, world: World) -> Any:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data: Any) -> None:
        case = data.draw(operation.as_strategy())
        first = next(_turns)
        roles = ROLES if EVERY_ROLE else [ROLES[(first + k) % len(ROLES)] for k in range(3)]
        for who in roles:
            case.call_and_validate(headers=world.auth(who),
                                   checks=[not_a_server_error, response_schema_conformance])

    return check
