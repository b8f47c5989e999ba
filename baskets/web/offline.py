"""The field pages without network: the service worker's script and the web app manifest.

The worker (`static/js/sw.js`) is served from the site's root (`/sw.js`) so that it may
answer for the pages under `/`; it caches the static files below before it takes over, and
the field pages (open rounds, round sheets, points and their lists) each time they load with
network, to serve them again when there is none. Its version is a digest of every file it
caches, so a release with a changed file installs a new worker and drops the old caches.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from baskets.web.core import STATIC_DIR

# What the field pages need to draw and work offline (the map's tiles excepted: they come
# from the tile server, and markers draw without them).
PRECACHE = (
    "css/site.css", "css/print.css", "js/site.js", "js/field.js", "js/map.js",
    "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "favicon.svg",
    "icons/icon-192.png", "icons/icon-512.png",
)


@cache
def service_worker() -> str:
    """The worker's script with its version and the files it caches first."""
    digest = hashlib.sha256()
    source = (STATIC_DIR / "js" / "sw.js").read_text(encoding="utf-8")
    digest.update(source.encode())
    for name in PRECACHE:
        digest.update((STATIC_DIR / name).read_bytes())
    return (source.replace("__VERSION__", digest.hexdigest()[:16])
            .replace('"__PRECACHE__"', json.dumps(["/static/" + name for name in PRECACHE])))


def manifest(name: str, description: str, lang: str) -> str:
    """The web app manifest in the visitor's language."""
    return json.dumps({
        "name": name, "short_name": name, "description": description, "lang": lang,
        "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#f4f6f3", "theme_color": "#1f6f43",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/icons/maskable-192.png", "sizes": "192x192", "type": "image/png",
             "purpose": "maskable"},
            {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }, ensure_ascii=False)
