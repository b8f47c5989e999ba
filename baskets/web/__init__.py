"""Server-rendered pages for the four front doors (Jinja2 templates, static assets)."""
