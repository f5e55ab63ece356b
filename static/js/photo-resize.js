// Progressive enhancement only: without this file (or in a browser that cannot do it) the
// chosen photos are sent as they are and the server checks them the same way.
//
// Camera photos are often larger than the portal accepts (pixels or bytes). When the resident
// chooses photos, each JPEG, PNG or WebP that is larger than MAX_SIDE on its long side, or
// larger than the byte limit, is drawn on a canvas at most MAX_SIDE pixels wide or high and
// saved as a JPEG; the smaller files take the place of the chosen ones in the file field.
(function () {
  "use strict";
  var MAX_SIDE = 2048;
  var QUALITY = 0.85;
  var RESIZABLE = ["image/jpeg", "image/png", "image/webp"];

  var input = document.getElementById("photos");
  if (!input || !input.form) return;
  var canvasWorks = !!document.createElement("canvas").toBlob;
  if (!canvasWorks || typeof window.DataTransfer !== "function" || !window.URL) return;
  try {
    new DataTransfer(); // some older browsers have the name but not the constructor
  } catch (error) {
    return;
  }
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || Infinity;
  var form = input.form;
  var pending = null; // a Promise while photos are being made smaller

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () {
        resolve(image); // the URL is revoked after drawing
      };
      image.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("cannot decode " + file.name));
      };
      image.src = url;
    });
  }

  function jpegName(name) {
    return (name.replace(/\.[^.\/]*$/, "") || "foto") + ".jpg";
  }

  // Resolves with a smaller JPEG, or with the original file whenever that is the better (or
  // the only possible) thing to send.
  function shrink(file) {
    if (RESIZABLE.indexOf(file.type) === -1) return Promise.resolve(file);
    return loadImage(file)
      .then(function (image) {
        // Browsers apply the EXIF orientation when they decode, so these are upright sizes.
        var width = image.naturalWidth;
        var height = image.naturalHeight;
        var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
        if (scale === 1 && file.size <= maxBytes) {
          URL.revokeObjectURL(image.src);
          return file;
        }
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(width * scale));
        canvas.height = Math.max(1, Math.round(height * scale));
        var context = canvas.getContext("2d");
        context.fillStyle = "#ffffff"; // JPEG has no transparency: white, not black
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(image.src);
        return new Promise(function (resolve) {
          canvas.toBlob(
            function (blob) {
              if (!blob || (scale === 1 && blob.size >= file.size)) {
                resolve(file);
                return;
              }
              resolve(new File([blob], jpegName(file.name), { type: "image/jpeg" }));
            },
            "image/jpeg",
            QUALITY
          );
        });
      })
      .catch(function () {
        return file; // the server says what is wrong with it, in words
      });
  }

  input.addEventListener("change", function () {
    var chosen = Array.prototype.slice.call(input.files || []);
    if (!chosen.length) return;
    var done = Promise.all(chosen.map(shrink)).then(function (files) {
      if (pending !== done) return; // the resident chose other photos meanwhile
      var changed = files.some(function (file, index) {
        return file !== chosen[index];
      });
      if (changed) {
        var transfer = new DataTransfer();
        files.forEach(function (file) {
          transfer.items.add(file);
        });
        input.files = transfer.files; // assigning files does not fire "change" again
        // file-input.js lists the chosen photos: it shows the smaller ones from now on.
        input.dispatchEvent(new CustomEvent("portal:photos-resized"));
      }
    });
    pending = done;
    done.then(
      function () {
        if (pending === done) pending = null;
      },
      function () {
        if (pending === done) pending = null; // send the originals
      }
    );
  });

  // Sending the form before the photos are ready would send the large originals: wait.
  form.addEventListener("submit", function (event) {
    if (!pending) return;
    event.preventDefault();
    var submitter = event.submitter;
    var resume = function () {
      pending = null;
      if (form.requestSubmit) {
        if (submitter) form.requestSubmit(submitter);
        else form.requestSubmit();
      } else {
        form.submit();
      }
    };
    pending.then(resume, resume);
  });
})();
