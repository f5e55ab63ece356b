// The small map on the back-office signal page (templates/backoffice/signal/_location.html):
// the signal's point, or its buurt's outline. For who may work the signal it also sets
// "Plek corrigeren": a click or a drag puts the pin, fills the coordinates and picks the buurt
// the point lies in (from the outlines the map draws), and says at once which buurt that is,
// or that the point is outside Hilversum. The form works the same without this file; every
// sentence comes from the page's data attributes.
(function () {
  "use strict";
  var element = document.getElementById("melding-kaart");
  if (!element || !window.PortalMap || !window.L) return;
  var editable = element.getAttribute("data-editable") === "true";
  var detailZoom = parseInt(element.getAttribute("data-detail-zoom") || "16", 10);
  var OUTLINE = { color: "#b35900", weight: 3, fillOpacity: 0.08, interactive: false };
  // No animations: while one runs, the map's drawing is scaled beyond its edge and lies over
  // the text around it (a contrast check reads that as covered text).

  element.hidden = false; // Leaflet needs the element's size
  var created = PortalMap.create(element, { interactive: editable });
  var map = created.map;
  var marker = null;
  var outline = null;

  function attr(name) { return element.getAttribute(name); }


  // --- which buurt a point lies in (GeoJSON rings, [lon, lat]) ---------------------------
  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inPolygon(x, y, rings) {
    if (!inRing(x, y, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) if (inRing(x, y, rings[k])) return false;
    return true;
  }
  function contains(feature, lon, lat) {
    var geometry = feature.geometry;
    if (geometry.type === "Polygon") return inPolygon(lon, lat, geometry.coordinates);
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (rings) { return inPolygon(lon, lat, rings); });
    }
    return false;
  }
  function buurten(features) {
    return features.filter(function (f) { return f.properties.layer === "buurt"; });
  }
  function buurtAt(features, lon, lat) {
    var found = buurten(features).filter(function (f) { return contains(f, lon, lat); });
    return found.length ? found[0] : null;
  }
  function buurtByCode(features, code) {
    var found = buurten(features).filter(function (f) { return f.properties.code === code; });
    return found.length ? found[0] : null;
  }

  function showOutline(feature, fit) {
    if (outline) map.removeLayer(outline);
    outline = feature ? L.geoJSON(feature, { style: OUTLINE }).addTo(map) : null;
    if (outline && fit) map.fitBounds(outline.getBounds(), { padding: [12, 12], animate: false });
  }

  function putMarker(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
      return;
    }
    marker = L.marker(latlng, {
      alt: attr("data-pin-label") || "",
      title: attr("data-pin-label") || "",
      draggable: editable,
      keyboard: false // the coordinates and the buurt list are the keyboard's way
    }).addTo(map);
    if (editable) {
      marker.on("dragend", function () { place(marker.getLatLng()); });
    }
  }

  // --- the signal as it is --------------------------------------------------------------
  var lat = parseFloat(attr("data-lat"));
  var lon = parseFloat(attr("data-lon"));
  var hasPoint = isFinite(lat) && isFinite(lon);
  if (hasPoint) {
    map.setView([lat, lon], detailZoom, { animate: false });
    putMarker([lat, lon]);
  }
  created.outlines.then(function (features) {
    var code = attr("data-buurt");
    if (code) showOutline(buurtByCode(features, code), !hasPoint);
  });
  if (!editable) return;

  // --- "Plek corrigeren" ------------------------------------------------------------------
  element.classList.add("portal-signal-map--editable");
  var hint = document.getElementById("relocate-map-hint");
  if (hint) hint.hidden = false;
  var found = document.getElementById("relocate-found");
  var select = document.getElementById("relocate-buurt");
  var latField = document.getElementById("relocate-lat");
  var lonField = document.getElementById("relocate-lon");
  if (!found || !select || !latField || !lonField) return;

  function say(text, outside) {
    found.textContent = text;
    found.classList.toggle("portal-relocate-found--outside", !!outside);
  }
  function optionFor(code) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === code) return select.options[i];
    }
    return null;
  }

  var lastGood = hasPoint ? L.latLng(lat, lon) : null;
  function place(latlng) {
    created.outlines.then(function (features) {
      var buurt = buurtAt(features, latlng.lng, latlng.lat);
      if (!buurt) {
        say(attr("data-outside") || "", true);
        if (lastGood) {
          putMarker(lastGood); // a drag out of Hilversum springs back
        } else if (marker) {
          map.removeLayer(marker);
          marker = null;
        }
        return;
      }
      lastGood = latlng;
      putMarker(latlng);
      latField.value = latlng.lat.toFixed(6);
      lonField.value = latlng.lng.toFixed(6);
      var option = optionFor(buurt.properties.code);
      if (option) select.value = option.value;
      showOutline(buurt, false);
      var wijk = option && option.parentNode && option.parentNode.label ? option.parentNode.label : "";
      var buurtName = option ? option.textContent : buurt.properties.name;
      say((attr("data-found") || "").replace("{buurtnaam}", buurtName).replace("{wijknaam}", wijk), false);
    });
  }

  map.on("click", function (event) { place(event.latlng); });

  // A buurt chosen from the list: the point goes when it does not lie in that buurt.
  select.addEventListener("change", function () {
    created.outlines.then(function (features) {
      var chosen = buurtByCode(features, select.value);
      if (!chosen) return;
      showOutline(chosen, true);
      var point = marker ? marker.getLatLng() : null;
      if (point && !contains(chosen, point.lng, point.lat)) {
        map.removeLayer(marker);
        marker = null;
        lastGood = null;
        latField.value = "";
        lonField.value = "";
        say(attr("data-cleared") || "", false);
      }
    });
  });

  // Coordinates typed by hand move the pin (the server checks them when saved).
  function typed() {
    var typedLat = parseFloat(latField.value.replace(",", "."));
    var typedLon = parseFloat(lonField.value.replace(",", "."));
    if (isFinite(typedLat) && isFinite(typedLon)) {
      var point = L.latLng(typedLat, typedLon);
      map.setView(point, map.getZoom(), { animate: false });
      place(point);
    }
  }
  latField.addEventListener("change", typed);
  lonField.addEventListener("change", typed);
})();
