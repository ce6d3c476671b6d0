// The editor's image upload (progressive: without it, the media library page does the same).
// A chosen or dropped image is posted to the media library with its alt text; the Markdown that comes back is
// inserted at the cursor of the post's text.
(function () {
  "use strict";
  var box = document.getElementById("media-drop");
  var body = document.getElementById("post-body");
  if (!box || !body || !window.fetch || !window.FormData) { return; }
  var alt = document.getElementById("editor-image-alt");
  var fileInput = document.getElementById("editor-image-file");
  var insertButton = document.getElementById("editor-image-insert");
  var status = document.getElementById("editor-image-status");
  var form = box.closest("form");
  var pending = null;
  box.hidden = false;

  function say(text) { status.textContent = text; }

  function insert(markdown) {
    var start = body.selectionStart, end = body.selectionEnd, text = body.value;
    var before = text.slice(0, start), after = text.slice(end);
    var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var tail = after === "" || /^\n\n/.test(after) ? "\n" : "\n\n";
    body.value = before + lead + markdown + tail + after;
    var caret = (before + lead + markdown + tail).length;
    body.setSelectionRange(caret, caret);
  }

  function upload() {
    if (!pending) { fileInput.focus(); return; }
    if (!alt.value.trim()) { say(box.dataset.needAlt); alt.focus(); return; }
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("alt", alt.value);
    data.append("file", pending, pending.name);
    say(box.dataset.uploading);
    insertButton.disabled = true;
    fetch(box.dataset.uploadUrl, { method: "POST", body: data, credentials: "same-origin",
                                   headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return { error: box.dataset.failed }; });
      })
      .then(function (answer) {
        if (answer.markdown) {
          insert(answer.markdown);
          pending = null; alt.value = ""; fileInput.value = "";
          say(box.dataset.inserted);
        } else {
          say(answer.error || box.dataset.failed);
        }
      })
      .catch(function () { say(box.dataset.failed); })
      .then(function () { insertButton.disabled = false; });
  }

  function choose(file) {
    if (!file) { return; }
    pending = file;
    if (alt.value.trim()) { upload(); } else { say(box.dataset.needAlt); alt.focus(); }
  }

  // Reuse: the latest uploads, fetched when the list is opened; a click inserts the image's Markdown.
  var recent = document.getElementById("media-recent");
  if (recent) {
    recent.addEventListener("toggle", function () {
      if (!recent.open || recent.dataset.loaded) { return; }
      recent.dataset.loaded = "1";
      var list = recent.querySelector("ul");
      fetch(recent.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (items) {
          if (!items.length) { var none = document.createElement("li"); none.textContent = recent.dataset.empty; list.appendChild(none); }
          items.forEach(function (item) {
            var entry = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "media-recent-item";
            var image = document.createElement("img");
            image.src = item.thumbnail; image.alt = item.alt; image.loading = "lazy";
            button.appendChild(image);
            button.addEventListener("click", function () { insert(item.markdown); say(box.dataset.inserted); });
            entry.appendChild(button);
            list.appendChild(entry);
          });
        })
        .catch(function () { say(box.dataset.failed); });
    });
  }

  fileInput.addEventListener("change", function () { choose(fileInput.files[0]); });
  insertButton.addEventListener("click", upload);
  alt.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); upload(); }  // never submit the post from here
  });
  ["dragenter", "dragover"].forEach(function (name) {
    box.addEventListener(name, function (event) { event.preventDefault(); box.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    box.addEventListener(name, function () { box.classList.remove("dragging"); });
  });
  box.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) { choose(files[0]); }
  });
}());
