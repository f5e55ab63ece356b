// The small still map on the resident's status page: the signal's point, and its buurt
// outlined. Only for the eye (the page says the place in words, and the map is aria-hidden):
// nothing in it can be focused or clicked.
(function () {
  "use strict";
  var element = document.getElementById("status-kaart");
  if (!element || !window.L || !window.PortalMap) return;

  var STREET_ZOOM = 16; // with tiles: the streets around the point
  var BUURT_STYLE = { color: "#00528c", weight: 3, fillColor: "#00528c", fillOpacity: 0.15, interactive: false };

  element.hidden = false; // before Leaflet measures it
  var created = window.PortalMap.create(element, { interactive: false });
  var map = created.map;
  element._portalMap = map; // for the browser tests
  unfocusable();

  var tiles = Boolean(element.getAttribute("data-tiles"));
  var buurt = element.getAttribute("data-buurt");
  var parts = (element.getAttribute("data-point") || "").split(",");
  var point = isFinite(parseFloat(parts[0])) && isFinite(parseFloat(parts[1]))
    ? L.latLng(parseFloat(parts[0]), parseFloat(parts[1]))
    : null;

  if (point) {
    L.marker(point, { interactive: false, keyboard: false, alt: "" }).addTo(map);
    map.setView(point, STREET_ZOOM, { animate: false });
  }
  created.outlines.then(function (features) {
    for (var i = 0; i < features.length; i += 1) {
      var properties = features[i].properties;
      if (properties.layer === "buurt" && properties.code === buurt) {
        var bounds = L.geoJSON(features[i], { style: BUURT_STYLE }).addTo(map).getBounds();
        // Without tiles the streets are not there to see: show the whole buurt, pin in it.
        if (!point || !tiles) {
          if (point) bounds.extend(point);
          map.fitBounds(bounds, { padding: [12, 12], animate: false });
        }
        return;
      }
    }
  });

  // A link in the attribution (when a tile source has one) must not be a tab stop inside an
  // aria-hidden map: the same credit is readable, it just is not a way in.
  function unfocusable() {
    var links = element.querySelectorAll("a, [tabindex]");
    for (var i = 0; i < links.length; i += 1) links[i].setAttribute("tabindex", "-1");
  }
})();
