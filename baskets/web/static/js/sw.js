// The service worker of the field pages (served as /sw.js; see baskets/web/offline.py).
// Static files: cache first. Field pages (home, open rounds, round sheets, points): network
// first, kept for when there is no network (or a network slower than 8 s). Everything else
// goes to the network untouched.
// Marks taken offline are queued by the page itself (static/js/field.js), not here.
"use strict";

var VERSION = "__VERSION__";
var STATIC_CACHE = "baskets-static-" + VERSION;
var PAGES_CACHE = "baskets-pages";
var SLOW_NETWORK_MS = 8000;
var PRECACHE = "__PRECACHE__";
var UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
var FIELD_PAGES = [
  new RegExp("^/$"), new RegExp("^/rounds$"), new RegExp("^/rounds/" + UUID + "$"),
  new RegExp("^/points$"), new RegExp("^/points/" + UUID + "$")
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(PRECACHE);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("baskets-static-") === 0 && name !== STATIC_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function isFieldPage(url) {
  return FIELD_PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

function offlinePage() {
  var html = "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>Pas de réseau</title><link rel=\"stylesheet\" href=\"/static/css/site.css\">" +
    "</head><body><main><h1>Pas de réseau</h1>" +
    "<p>Cette page n'a pas encore été ouverte sur cet appareil avec du réseau : " +
    "elle n'est pas enregistrée. Ouvrez-la une fois connecté pour l'avoir hors ligne.</p>" +
    "<p lang=\"en\">No network, and this page was not opened on this device before.</p>" +
    "<p><a href=\"/\">Accueil</a></p></main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(event) {
  // The network's page when it comes; the kept copy when there is no network, or when the
  // network is so slow (a weak signal) that the copy is worth more than waiting.
  var request = event.request;
  var network = fetch(request).then(function (response) {
    // Only a page that really is this page (not a redirect to the login page).
    if (!response.ok || response.redirected || response.type !== "basic") { return response; }
    var copy = response.clone();
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.put(request, copy);
    }).then(function () { return response; }, function () { return response; });
  });
  event.waitUntil(network.catch(function () { return null; }));
  var kept = caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true });
  });
  var slow = new Promise(function (resolve) { setTimeout(resolve, SLOW_NETWORK_MS); })
    .then(function () { return kept; })
    .then(function (page) { return page || network; });
  return Promise.race([network, slow]).catch(function () {
    return kept.then(function (page) { return page || offlinePage(); });
  });
}

function cacheFirst(event) {
  var request = event.request;
  return caches.match(request).then(function (cached) {
    return cached || fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
          return cache.put(request, copy);
        }));
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    // Pages of the person leaving must not be shown to the next one on a shared phone.
    event.waitUntil(caches.delete(PAGES_CACHE));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(event));
  } else if (request.mode === "navigate" && isFieldPage(url)) {
    event.respondWith(networkFirst(event));
  }
});
