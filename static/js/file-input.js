// Progressive enhancement only: without this file the photo field is the browser's own file
// field and the form works the same.
//
// With it, the field's label looks like a button ("Kies foto's"), and the chosen photos are
// listed under it, each with a small thumbnail, its name and size, and a button to take it out
// again before sending. Choosing again adds to the list (a phone's camera gives one photo at a
// time) up to the maximum; what happens is said in a live region. The field itself keeps
// holding exactly the listed files (rebuilt with DataTransfer), so the form sends those.
//
// photo-resize.js listens to the same field: it makes large photos smaller after each
// "change" and then says "portal:photos-resized"; the list then shows the smaller files.
(function () {
  "use strict";
  var input = document.getElementById("photos");
  if (!input || !input.form || !window.URL || !URL.createObjectURL) return;
  if (typeof window.DataTransfer !== "function") return;
  try {
    new DataTransfer(); // some older browsers have the name but not the constructor
  } catch (error) {
    return;
  }
  var field = input.closest(".portal-file");
  if (!field) return;
  var label = field.querySelector("label[for='photos']");
  var list = document.getElementById("photos-list");
  var status = document.getElementById("photos-status");
  var form = input.form;
  var max = parseInt(field.getAttribute("data-max"), 10) || 1;
  var text = {
    more: field.getAttribute("data-label-more"),
    remove: field.getAttribute("data-remove"),
    count: field.getAttribute("data-status-count"),
    removed: field.getAttribute("data-status-removed"),
    tooMany: field.getAttribute("data-status-too-many"),
  };
  var firstLabel = label ? label.textContent : "";
  var chosen = []; // the files the field holds, in the order the resident chose them
  var thumbnails = []; // object URLs of the thumbnails shown now
  var settingFiles = false; // our own "change" (after adding or removing), not the resident's
  var lang = document.documentElement.lang || "nl";

  field.classList.add("portal-file--enhanced");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? String(values[key]) : whole;
    });
  }

  function keptCount() {
    return form.querySelectorAll("input[name='kept_photos']:checked").length;
  }

  function room() {
    return Math.max(0, max - keptCount());
  }

  function sizeText(bytes) {
    var megabytes = bytes >= 1024 * 1024;
    try {
      return new Intl.NumberFormat(lang, {
        style: "unit",
        unit: megabytes ? "megabyte" : "kilobyte",
        maximumFractionDigits: megabytes ? 1 : 0,
      }).format(megabytes ? bytes / (1024 * 1024) : Math.max(1, Math.round(bytes / 1024)));
    } catch (error) {
      return megabytes ? (bytes / (1024 * 1024)).toFixed(1) + " MB" : Math.round(bytes / 1024) + " kB";
    }
  }

  function sameFile(a, b) {
    return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
  }

  function countText() {
    return fill(text.count, { count: keptCount() + chosen.length, max: max });
  }

  function say(message) {
    // Emptied first, so that the same words twice are announced twice.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  // Puts `files` in the field and tells the other scripts (photo-resize.js) with a "change".
  function setFiles(files) {
    var transfer = new DataTransfer();
    files.forEach(function (file) {
      transfer.items.add(file);
    });
    settingFiles = true;
    try {
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    } finally {
      settingFiles = false;
    }
  }

  function render() {
    thumbnails.forEach(function (url) {
      URL.revokeObjectURL(url);
    });
    thumbnails = [];
    list.textContent = "";
    chosen.forEach(function (file, index) {
      var item = document.createElement("li");
      item.className = "portal-file-list__item";
      var image = document.createElement("img");
      image.className = "portal-file-list__thumb";
      image.alt = ""; // the name is beside it
      image.width = 64;
      image.height = 64;
      var url = URL.createObjectURL(file);
      thumbnails.push(url);
      image.src = url;
      var about = document.createElement("span");
      var name = document.createElement("span");
      name.className = "portal-file-list__name";
      name.textContent = file.name;
      var size = document.createElement("span");
      size.className = "portal-file-list__size";
      size.textContent = sizeText(file.size);
      about.appendChild(name);
      about.appendChild(size);
      var button = document.createElement("button");
      button.type = "button";
      button.className =
        "utrecht-button utrecht-button--secondary-action utrecht-button--html-button portal-file-list__remove";
      button.appendChild(document.createTextNode(text.remove));
      var which = document.createElement("span");
      which.className = "portal-visually-hidden";
      which.textContent = " " + file.name;
      button.appendChild(which);
      button.addEventListener("click", function () {
        remove(index);
      });
      item.appendChild(image);
      item.appendChild(about);
      item.appendChild(button);
      list.appendChild(item);
    });
    if (label) label.textContent = chosen.length || keptCount() ? text.more : firstLabel;
  }

  function remove(index) {
    var file = chosen[index];
    chosen = chosen.filter(function (_file, at) {
      return at !== index;
    });
    setFiles(chosen);
    render();
    // Keyboard users stay in the list: the next remove button, else the choose button.
    var buttons = list.querySelectorAll(".portal-file-list__remove");
    var next = buttons[Math.min(index, buttons.length - 1)];
    (next || input).focus();
    say(fill(text.removed, { name: file.name }) + " " + countText());
  }

  input.addEventListener("change", function () {
    if (settingFiles) return;
    var picked = Array.prototype.slice.call(input.files || []);
    var fresh = picked.filter(function (file) {
      return !chosen.some(function (had) {
        return sameFile(had, file);
      });
    });
    var all = chosen.concat(fresh);
    var space = room();
    var refused = all.slice(space);
    chosen = all.slice(0, space);
    var same =
      chosen.length === picked.length &&
      chosen.every(function (file, at) {
        return file === picked[at];
      });
    if (!same) setFiles(chosen);
    render();
    var message = countText();
    if (refused.length) {
      message =
        fill(text.tooMany, {
          max: max,
          names: refused
            .map(function (file) {
              return file.name;
            })
            .join(", "),
        }) +
        " " +
        message;
    }
    say(message);
  });

  // photo-resize.js put smaller files in the field: list those.
  input.addEventListener("portal:photos-resized", function () {
    chosen = Array.prototype.slice.call(input.files || []);
    render();
  });

  // Unticking a photo kept from an earlier try makes room for another.
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "kept_photos") say(countText());
  });

  // Back/forward cache or a browser that restored the field: show what it holds.
  if (input.files && input.files.length) {
    chosen = Array.prototype.slice.call(input.files);
    render();
  }
})();
