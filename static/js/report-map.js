// The map on /melden: a pin by click, drag, keyboard, the browser's location or the address
// typed; it fills the form's hidden lat/lon and the wijk and buurt lists, and says at once
// where the pin is. Progressive enhancement only: without this file the form is the same, and
// the lists and address fields stay the equal way to give the place. Every text comes from
// data attributes of templates/public/report/_map.html (translated there).
//
// After each pin the server names its buurt (GET /melden/plek); then this script dispatches
// on document a CustomEvent "portal:location" with detail
// {lon, lat, buurt: code | null, wijk: code | null, inside: bool}, once lat/lon and the lists
// are set (other parts of the form, such as the nearby signals, listen to it).
(function () {
  "use strict";
  var block = document.getElementById("kaart-blok");
  var element = document.getElementById("kaart");
  if (!block || !element || !window.L || !window.PortalMap || !window.fetch) return;

  var STEP_METRES = 25; // one arrow key press
  var BIG_STEP_METRES = 250; // with Shift
  var KEYBOARD_ZOOM = 15; // where 25 m is a visible step
  var FOUND_ZOOM = 17; // an address or the browser's location: close by
  var KEY_LOOKUP_DELAY_MS = 400; // keys held down: ask (and announce) once they stop
  var METRES_PER_DEGREE = 111320;
  // The map moves at once when the script moves it: no motion the resident did not make, and
  // no half-drawn map while a screen reader (or a contrast check) reads the page.
  var STILL = { animate: false };

  var fields = {
    lat: document.getElementById("lat"),
    lon: document.getElementById("lon"),
    wijk: document.getElementById("wijk"),
    buurt: document.getElementById("buurt"),
    postcode: document.getElementById("postcode"),
    houseNumber: document.getElementById("house_number")
  };
  var status = document.getElementById("kaart-plek");
  var locateButton = document.getElementById("mijn-locatie");
  var locateHint = document.getElementById("mijn-locatie-uitleg");

  function text(name) {
    return block.getAttribute("data-text-" + name) || "";
  }

  // Shown before Leaflet measures it: a hidden element has no size.
  block.hidden = false;
  var created = window.PortalMap.create(element, { keyboard: false });
  var map = created.map;
  // For the browser tests (and any script that wants to look): harmless, read-only use.
  element._portalMap = map;
  var features = [];
  created.outlines.then(function (list) {
    features = list || [];
    if (!marker) showChosenArea();
  });
  noticeFailingTiles();

  var marker = null;
  var pinPlace = null; // {wijk, buurt} the server gave for the current pin
  var lookupNumber = 0;
  var lookupTimer = null;
  var addressNumber = 0;

  // --- what the resident sees and hears -------------------------------------------------

  function say(message, warning) {
    status.textContent = message;
    status.classList.toggle("portal-map__place--warning", Boolean(warning));
  }


  // Tiles that do not load (offline, blocked) leave the outlines on a plain background.
  function noticeFailingTiles() {
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function () {
          element.classList.add("portal-map--no-tiles");
        });
      }
    });
  }

  // --- the pin --------------------------------------------------------------------------

  function setPin(latlng, how) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { draggable: true, keyboard: false, alt: text("marker") });
      marker.on("dragend", function () {
        writePoint(marker.getLatLng());
        lookUp(marker.getLatLng(), "");
      });
      marker.addTo(map);
    }
    writePoint(latlng);
    if (how === "keys") {
      clearTimeout(lookupTimer);
      lookupTimer = setTimeout(function () {
        lookUp(latlng, "");
      }, KEY_LOOKUP_DELAY_MS);
    } else {
      lookUp(latlng, how === "address" ? text("address-found") + " " : "");
    }
  }

  function removePin() {
    if (marker) map.removeLayer(marker);
    marker = null;
    pinPlace = null;
    clearTimeout(lookupTimer);
    lookupNumber += 1; // an answer still on its way is for a pin that is gone
    writePoint(null);
  }

  function writePoint(latlng) {
    fields.lat.value = latlng ? latlng.lat.toFixed(6) : "";
    fields.lon.value = latlng ? latlng.lng.toFixed(6) : "";
  }

  function keepInView(latlng) {
    if (!map.getBounds().pad(-0.15).contains(latlng)) map.panTo(latlng, STILL);
  }

  // --- where the pin is: the server's answer --------------------------------------------

  function lookUp(latlng, prefix) {
    clearTimeout(lookupTimer);
    var number = (lookupNumber += 1);
    var url =
      block.getAttribute("data-place-url") +
      "?lon=" + encodeURIComponent(latlng.lng.toFixed(6)) +
      "&lat=" + encodeURIComponent(latlng.lat.toFixed(6));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("place lookup: " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (number === lookupNumber) showPlace(answer, latlng, prefix);
      })
      .catch(function () {
        // lat/lon stay set: the server places the signal when the form is sent.
        if (number === lookupNumber) say(text("lookup-failed"), true);
      });
  }

  function showPlace(answer, latlng, prefix) {
    if (answer.inside) {
      pinPlace = { wijk: answer.wijk.code, buurt: answer.buurt.code };
      choose(fields.wijk, answer.wijk.code);
      choose(fields.buurt, answer.buurt.code);
      say(prefix + answer.text, false);
    } else {
      // The form must still go: without a point it is placed by the lists or the address.
      pinPlace = null;
      writePoint(null);
      say(answer.text, true);
    }
    document.dispatchEvent(
      new CustomEvent("portal:location", {
        detail: {
          lon: latlng.lng,
          lat: latlng.lat,
          buurt: answer.inside ? answer.buurt.code : null,
          wijk: answer.inside ? answer.wijk.code : null,
          inside: Boolean(answer.inside)
        }
      })
    );
  }

  // Set without a change event: a change event means the resident chose (see below).
  function choose(select, value) {
    if (!select) return;
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].value === value) {
        select.value = value;
        return;
      }
    }
  }

  // --- the lists: the resident's own choice wins -----------------------------------------

  function onListChange() {
    var agrees = pinPlace && fields.wijk.value === pinPlace.wijk && fields.buurt.value === pinPlace.buurt;
    if (marker && !agrees) {
      // The pin would outrank the list when the form is sent; the resident chose otherwise.
      removePin();
      say(text("pin-removed"), false);
    }
    if (!marker) showChosenArea();
  }

  function showChosenArea() {
    var code = (fields.buurt && fields.buurt.value) || (fields.wijk && fields.wijk.value);
    if (!code) return;
    for (var i = 0; i < features.length; i += 1) {
      if (features[i].properties.code === code) {
        map.fitBounds(L.geoJSON(features[i]).getBounds(), { padding: [16, 16], animate: false });
        return;
      }
    }
  }

  // --- the address: its point, where a geocoder is configured -----------------------------

  function onAddressChange() {
    var url = block.getAttribute("data-address-url");
    if (!url || !fields.postcode || !fields.houseNumber) return;
    var postcode = fields.postcode.value.trim();
    var houseNumber = fields.houseNumber.value.trim();
    if (!postcode || !houseNumber) return;
    var number = (addressNumber += 1);
    fetch(
      url + "?postcode=" + encodeURIComponent(postcode) + "&huisnummer=" + encodeURIComponent(houseNumber),
      { credentials: "same-origin", headers: { Accept: "application/json" } }
    )
      .then(function (response) {
        return response.ok ? response.json() : { found: false };
      })
      .then(function (answer) {
        // Not found: nothing to say, the lists and the map are still there.
        if (number !== addressNumber || !answer.found) return;
        var latlng = L.latLng(answer.lat, answer.lon);
        map.setView(latlng, Math.max(map.getZoom(), FOUND_ZOOM), STILL);
        setPin(latlng, "address");
      })
      .catch(function () {});
  }

  // --- the browser's location, with the resident's consent --------------------------------

  function useMyLocation() {
    say(text("geo-busy"), false);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var latlng = L.latLng(position.coords.latitude, position.coords.longitude);
        map.setView(latlng, Math.max(map.getZoom(), FOUND_ZOOM), STILL);
        setPin(latlng, "location");
      },
      function (error) {
        say(text(error.code === 1 ? "geo-denied" : "geo-failed"), true);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  // --- the keyboard: arrows move the pin, Enter or space sets it, + and - zoom -------------

  var ARROWS = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

  function placeAtCentre() {
    if (map.getZoom() < KEYBOARD_ZOOM) map.setZoom(KEYBOARD_ZOOM, STILL);
    setPin(map.getCenter(), "centre");
  }

  function onKey(event) {
    // Keys on the zoom buttons or the attribution links are theirs.
    if (event.target !== element || event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (ARROWS[key]) {
      if (!marker) {
        placeAtCentre();
      } else {
        var metres = event.shiftKey ? BIG_STEP_METRES : STEP_METRES;
        var from = marker.getLatLng();
        var degrees = metres / METRES_PER_DEGREE;
        var latlng = L.latLng(
          from.lat + ARROWS[key][0] * degrees,
          from.lng + (ARROWS[key][1] * degrees) / Math.cos((from.lat * Math.PI) / 180)
        );
        setPin(latlng, "keys");
        keepInView(latlng);
      }
    } else if (key === "Enter" || key === " ") {
      if (marker) map.panTo(marker.getLatLng(), STILL);
      else placeAtCentre();
    } else if (key === "+" || key === "=") {
      map.zoomIn(1, STILL);
    } else if (key === "-" || key === "_") {
      map.zoomOut(1, STILL);
    } else {
      return;
    }
    event.preventDefault();
  }

  // --- wiring ---------------------------------------------------------------------------

  map.on("click", function (event) {
    setPin(event.latlng, "click");
  });
  element.addEventListener("keydown", onKey);
  if (fields.wijk) fields.wijk.addEventListener("change", onListChange);
  if (fields.buurt) fields.buurt.addEventListener("change", onListChange);
  if (fields.postcode) fields.postcode.addEventListener("change", onAddressChange);
  if (fields.houseNumber) fields.houseNumber.addEventListener("change", onAddressChange);
  if (locateButton && navigator.geolocation) {
    locateButton.hidden = false;
    if (locateHint) locateHint.hidden = false;
    locateButton.addEventListener("click", useMyLocation);
  }

  // A form that came back (an error elsewhere) keeps its pin.
  var lat = parseFloat(fields.lat.value);
  var lon = parseFloat(fields.lon.value);
  if (isFinite(lat) && isFinite(lon)) {
    var kept = L.latLng(lat, lon);
    map.setView(kept, Math.max(map.getZoom(), KEYBOARD_ZOOM), STILL);
    setPin(kept, "kept");
  }
})();
