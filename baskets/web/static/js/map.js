// Maps: markers are vector circles (or numbered labels for a round's stops), so they draw
// even when no tile can be loaded.
(function () {
  "use strict";
  var COLOURS = { point: "#1f6f43", farm: "#b3541e", hub: "#1d3557" };
  document.querySelectorAll("[data-map]").forEach(function (element) {
    if (typeof L === "undefined") { return; }
    var dataNode = element.parentNode.querySelector(".map-data");
    var data = dataNode ? JSON.parse(dataNode.textContent) : [];
    // Either a list of markers, or {"markers": [...], "routes": [{"path", "colour", "name"}]}.
    var markers = Array.isArray(data) ? data : (data.markers || []);
    var routes = Array.isArray(data) ? [] : (data.routes || []);
    var map = L.map(element, { scrollWheelZoom: false });
    var tiles = element.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: element.getAttribute("data-attribution") || "" })
        .addTo(map);
    }
    var bounds = [];
    routes.forEach(function (route) {
      var label = document.createElement("span");
      label.textContent = route.name;
      L.polyline(route.path, { color: route.colour, weight: 4, opacity: 0.8, className: "route-line" })
        .bindTooltip(label).addTo(map);
      route.path.forEach(function (point) { bounds.push(point); });
    });
    markers.forEach(function (marker) {
      var label = document.createElement("span");
      label.textContent = marker.name;  // text, never HTML: names come from users
      if (marker.label) {
        // A round's stop: its number(s) in the order of the sheet, drawn as a DOM element.
        var number = document.createElement("span");
        number.textContent = marker.label;
        var width = Math.max(26, 10 + 8 * marker.label.length);
        L.marker([marker.lat, marker.lon], {
          icon: L.divIcon({ html: number, className: "marker-number marker-" + marker.kind,
                            iconSize: [width, 26], iconAnchor: [width / 2, 13] }),
          title: marker.label + " — " + marker.name, alt: marker.label
        }).bindTooltip(label).addTo(map);
      } else {
        L.circleMarker([marker.lat, marker.lon], {
          radius: marker.kind === "farm" ? 7 : 8, color: "#ffffff", weight: 2,
          fillColor: COLOURS[marker.kind] || "#333333", fillOpacity: 0.95,
          className: "marker-" + marker.kind
        }).bindTooltip(label).addTo(map);
      }
      bounds.push([marker.lat, marker.lon]);
    });
    if (bounds.length) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
    } else {
      map.setView([46.6, 2.4], 5);
    }
    element.setAttribute("data-markers-drawn", String(markers.length));
    element.setAttribute("data-routes-drawn", String(routes.length));
  });
})();
