// "Is dit al gemeld?" (templates/public/report/_nearby.html): when the place on the form changes
// (the map's pin, an address placed on the map, the buurt list) this asks the server for the
// open signals nearby and shows them in the form. Progressive enhancement: without this file
// the "Bekijk meldingen in de buurt" button shows the same list with a page load. Every text
// comes from the server's fragment; the short summary is announced, focus stays where it is.
(function () {
  "use strict";
  var region = document.getElementById("in-de-buurt");
  var announcer = document.getElementById("in-de-buurt-bericht");
  if (!region || !announcer || !window.fetch || !window.URLSearchParams) return;
  var url = region.getAttribute("data-url");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var buurt = document.getElementById("buurt");
  var step = document.getElementById("in-de-buurt-stap");
  // The list follows the place by itself now: the page-load button would only confuse.
  if (step) step.hidden = true;

  var shown = currentQuery();
  var timer = null;
  var asked = 0;

  function currentQuery() {
    var params = new URLSearchParams();
    if (lat && lon && lat.value && lon.value) {
      params.set("lat", lat.value);
      params.set("lon", lon.value);
    }
    if (buurt && buurt.value) params.set("buurt", buurt.value);
    return params.toString();
  }

  function show(html) {
    // A button in the old list may have focus: replacing it would drop focus to the page.
    var hadFocus = region.contains(document.activeElement);
    region.innerHTML = html;
    if (hadFocus) {
      var title = region.querySelector("h2");
      if (title) {
        title.setAttribute("tabindex", "-1");
        title.focus();
      }
    }
    var root = region.querySelector("[data-announce]");
    // Cleared first, so the same words are announced again after a change.
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = root ? root.getAttribute("data-announce") : "";
    }, 50);
  }

  function refresh() {
    var query = currentQuery();
    if (query === shown) return;
    var ticket = ++asked;
    fetch(url + (query ? "?" + query : ""), {
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (ticket !== asked) return; // an answer for a place chosen before the last one
        shown = query;
        show(html);
      })
      .catch(function () {
        // Nothing to do: the list stays as it was and the form works as before.
      });
  }

  function soon() {
    // Dragging the pin or holding an arrow key sends many events: ask once they settle,
    // after the map's own script has set the fields.
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  document.addEventListener("portal:location", soon);
  if (buurt) buurt.addEventListener("change", soon);
})();
