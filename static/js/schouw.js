// Schouw mode (templates/backoffice/intake/schouw.html): "Gebruik mijn locatie" puts the
// phone's location in the form's hidden lat/lon and picks its buurt in the list. Progressive
// enhancement only: without this file (or without geolocation) the block stays hidden and the
// buurt list, already set to the schouw's buurt, gives the place. Every text comes from the
// block's data attributes (translated with the page).
(function () {
  "use strict";
  var block = document.getElementById("schouw-locatie");
  if (!block || !navigator.geolocation) return;
  var useButton = document.getElementById("schouw-locatie-gebruik");
  var dropButton = document.getElementById("schouw-locatie-weg");
  var status = document.getElementById("schouw-locatie-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var buurt = document.getElementById("buurt");
  if (!useButton || !dropButton || !status || !lat || !lon || !buurt) return;
  var attempt = 0; // an answer to an older attempt is ignored

  function text(name) {
    return block.getAttribute("data-text-" + name) || "";
  }

  function say(message) {
    status.textContent = message;
  }

  function pinned() {
    return lat.value !== "" && lon.value !== "";
  }

  function showButtons() {
    dropButton.hidden = !pinned();
  }

  function drop(message) {
    attempt += 1;
    lat.value = "";
    lon.value = "";
    showButtons();
    say(message);
  }

  function describe(lonValue, latValue, ours) {
    if (!window.fetch) {
      say(text("pinned"));
      return;
    }
    var url = block.getAttribute("data-place-url") +
      "?lon=" + encodeURIComponent(lonValue) + "&lat=" + encodeURIComponent(latValue);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("place lookup " + response.status);
        return response.json();
      })
      .then(function (place) {
        if (ours !== attempt) return;
        if (!place.inside) {
          drop(text("outside"));
          return;
        }
        if (place.buurt && place.buurt.code) buurt.value = place.buurt.code;
        say(text("found").replace("{place}", place.text || ""));
      })
      .catch(function () {
        if (ours === attempt) say(text("pinned"));
      });
  }

  useButton.addEventListener("click", function () {
    attempt += 1;
    var ours = attempt;
    say(text("busy"));
    navigator.geolocation.getCurrentPosition(
      function (position) {
        if (ours !== attempt) return;
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        showButtons();
        describe(lon.value, lat.value, ours);
      },
      function (error) {
        if (ours !== attempt) return;
        drop(error && error.code === 1 ? text("denied") : text("failed"));
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 }
    );
  });

  dropButton.addEventListener("click", function () {
    drop(text("removed"));
    useButton.focus();
  });

  // A buurt chosen by hand is the place: the location would outrank it (a pin wins).
  buurt.addEventListener("change", function () {
    if (pinned()) drop(text("replaced"));
  });

  block.hidden = false;
  showButtons();
  if (pinned()) {
    attempt += 1;
    describe(lon.value, lat.value, attempt);
  }
})();
