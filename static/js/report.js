// Progressive enhancement only: the form works the same without this file.
(function () {
  "use strict";
  var description = document.getElementById("description");
  if (!description) return;
  var max = parseInt(description.getAttribute("data-maxlength"), 10);
  var counter = document.createElement("p");
  counter.className = "portal-counter";
  counter.id = "description-counter";
  counter.setAttribute("aria-live", "polite");
  description.parentNode.appendChild(counter);
  var text = description.getAttribute("data-counter");
  function update() {
    counter.textContent = text.replace("{n}", String(max - description.value.length));
  }
  description.addEventListener("input", update);
  update();
})();
