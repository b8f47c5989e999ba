"""Background jobs: the database is the source of truth; Celery/Redis or threads carry them."""
