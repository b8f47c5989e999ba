# One image for the api, the worker and the reconciler (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY baskets ./baskets
COPY fixtures ./fixtures
RUN pip install . && useradd --create-home --uid 10001 baskets
USER baskets

EXPOSE 8000
CMD ["uvicorn", "baskets.api.asgi:app", "--host", "0.0.0.0", "--port", "8000"]
