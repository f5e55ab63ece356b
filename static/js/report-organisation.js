// Progressive enhancement only: without this file the organisation fields are always shown,
// and the form says when to fill them in (templates/public/report/_organisation.html).
// With it, they show only once "namens een organisatie of bedrijf" is chosen. Hidden, they
// are disabled, so they are not sent; what was typed stays in them for when they come back.
(function () {
  "use strict";
  var part = document.getElementById("organisatie-deel");
  var radios = document.querySelectorAll('input[name="submitter"]');
  if (!part || !radios.length) return;
  var inputs = part.querySelectorAll("input");
  var contactLabel = document.querySelector('label[for="name"]');

  function onBehalf() {
    var chosen = document.querySelector('input[name="submitter"]:checked');
    return Boolean(chosen) && chosen.value === "organisation";
  }

  function update() {
    var shown = onBehalf();
    part.hidden = !shown;
    for (var i = 0; i < inputs.length; i += 1) inputs[i].disabled = !shown;
    if (contactLabel) {
      contactLabel.textContent = part.getAttribute(
        shown ? "data-label-organisation" : "data-label-resident"
      );
    }
  }

  for (var i = 0; i < radios.length; i += 1) radios[i].addEventListener("change", update);
  update();
})();
