// Shared map setup (Leaflet): every map reads its settings from data attributes written by
// templates/macros/map.html, so no page needs inline script. Maps are an extra: every page
// works without JavaScript and shows the same place in text.
(function () {
  "use strict";
  if (!window.L) return;

  var WIJK_STYLE = { color: "#1f3d7a", weight: 2.5, fill: false, interactive: false };
  var BUURT_STYLE = { color: "#1f3d7a", weight: 1, opacity: 0.55, dashArray: "4 4", fill: false, interactive: false };

  function centerOf(element) {
    var parts = (element.getAttribute("data-center") || "52.2292,5.1669").split(",");
    return [parseFloat(parts[0]), parseFloat(parts[1])];
  }

  // create(element, options): a Leaflet map in element, with tiles when configured and the
  // wijk and buurt outlines. options: { interactive: false } for a small still map,
  // { keyboard: false } where the page handles the keys itself. Returns
  // { map, outlines: Promise<GeoJSON features> }.
  function create(element, options) {
    options = options || {};
    var interactive = options.interactive !== false;
    var map = L.map(element, {
      center: centerOf(element),
      zoom: parseInt(element.getAttribute("data-zoom") || "13", 10),
      zoomControl: false,
      dragging: interactive,
      scrollWheelZoom: false,
      doubleClickZoom: interactive,
      boxZoom: interactive,
      touchZoom: interactive,
      keyboard: interactive && options.keyboard !== false,
      attributionControl: true,
      // No drawing beyond the map's edge: Leaflet's default 10% margin makes the outlines'
      // SVG lie over the text just above and below the map, and a contrast check (axe)
      // reads that as text covered by another element.
      renderer: L.svg({ padding: 0 })
    });
    map.attributionControl.setPrefix(false);
    if (interactive) {
      // Named zoom buttons (the page's words); map.css draws their + and -: a glyph alone is
      // text no contrast check can judge.
      map.zoomControl = L.control
        .zoom({
          zoomInTitle: element.getAttribute("data-zoom-in") || "",
          zoomOutTitle: element.getAttribute("data-zoom-out") || "",
          zoomInText: '<span class="portal-map__zoom portal-map__zoom--in" aria-hidden="true"></span>',
          zoomOutText: '<span class="portal-map__zoom" aria-hidden="true"></span>'
        })
        .addTo(map);
    }
    var tiles = element.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, {
        maxZoom: 19,
        minZoom: 11,
        attribution: element.getAttribute("data-attribution") || ""
      }).addTo(map);
    } else {
      element.classList.add("portal-map--no-tiles");
    }
    var outlines = fetch(element.getAttribute("data-outlines"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { features: [] }; })
      .then(function (collection) {
        L.geoJSON(collection, {
          style: function (feature) {
            return feature.properties.layer === "wijk" ? WIJK_STYLE : BUURT_STYLE;
          }
        }).addTo(map);
        return collection.features;
      })
      .catch(function () { return []; });
    return { map: map, outlines: outlines };
  }

  window.PortalMap = { create: create };
})();
