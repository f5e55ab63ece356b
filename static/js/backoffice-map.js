// The inbox on a map (templates/backoffice/map.html): the markers come as JSON in the page
// (no inline script), clustered; each popup links to its signal. The table under the map
// lists the same signals, and is all there is without this file. No words of its own: what
// the popup says comes from the page.
(function () {
  "use strict";
  var element = document.getElementById("kaart");
  if (!element || !window.PortalMap || !window.L || !L.markerClusterGroup) return;
  var source = document.getElementById(element.getAttribute("data-markers"));
  var markers;
  try {
    markers = JSON.parse(source.textContent);
  } catch (error) {
    return; // the table says it all
  }
  var statusLabel = element.getAttribute("data-status-label") || "";


  function paragraph(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  // Built from text nodes: a resident's title is never read as HTML.
  function popup(item) {
    var box = document.createElement("div");
    box.className = "portal-map-popup";
    var first = document.createElement("p");
    first.className = "portal-map-popup__reference";
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.reference;
    first.appendChild(link);
    box.appendChild(first);
    box.appendChild(paragraph("portal-map-popup__title", item.title));
    box.appendChild(paragraph("portal-map-popup__status", statusLabel + ": " + item.status));
    return box;
  }

  element.hidden = false; // Leaflet needs the element's size
  var map = PortalMap.create(element, {}).map;
  // Clustering needs the deepest zoom; without tiles (offline) no layer sets one.
  if (!isFinite(map.getMaxZoom())) map.setMaxZoom(19);
  // The count as drawn text (CSS attr()), with the sentence as the icon's title: a one-digit
  // text node is too short for a contrast check to judge. Clusters are not focusable; the
  // table is the keyboard's and screen reader's way through the same signals.
  var clusterLabel = element.getAttribute("data-cluster-label") || "{n}";
  var cluster = L.markerClusterGroup({
    showCoverageOnHover: false,
    iconCreateFunction: function (group) {
      var count = group.getChildCount();
      var outer = document.createElement("div");
      var inner = document.createElement("span");
      inner.className = "portal-map-cluster__count";
      inner.setAttribute("data-count", String(count));
      outer.appendChild(inner);
      outer.title = clusterLabel.replace("{n}", String(count));
      return L.divIcon({ html: outer, className: "portal-map-cluster", iconSize: L.point(40, 40) });
    }
  });
  markers.forEach(function (item) {
    var marker = L.marker([item.lat, item.lon], {
      alt: item.reference + ": " + item.title,
      title: item.reference,
      keyboard: true
    });
    // No close button (an English "×" alone): a click elsewhere or Escape closes it.
    marker.bindPopup(function () { return popup(item); }, { closeButton: false });
    cluster.addLayer(marker);
  });
  map.addLayer(cluster);
  if (markers.length) {
    // No animation: while it runs the drawing is scaled beyond the map's edge.
    map.fitBounds(cluster.getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
  }
})();
