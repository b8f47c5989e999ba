"""ASGI entry point for servers (uvicorn baskets.api.asgi:app): settings from the environment."""

from baskets.api.app import create_app

app = create_app()
