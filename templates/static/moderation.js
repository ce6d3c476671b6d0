// The moderation queue's extras (progressive: every action works without this script).
// "Select all on this page" for the bulk actions, and WordPress's keys: j/k move between comments,
// a approves, s marks as spam, d deletes the current one.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".moderation-item"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='ids']"));
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.closest(".select-all").hidden = false;
    selectAll.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = selectAll.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        selectAll.checked = boxes.every(function (one) { return one.checked; });
      });
    });
  }
  if (!items.length) { return; }
  var hint = document.querySelector(".keyboard-hint");
  if (hint) { hint.hidden = false; }
  var current = -1;

  function select(index) {
    if (index < 0 || index >= items.length) { return; }
    if (current >= 0) { items[current].classList.remove("current"); }
    current = index;
    items[current].classList.add("current");
    items[current].focus();
    items[current].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) { return; }
    var key = event.key;
    if (key === "j") { select(current + 1); event.preventDefault(); }
    else if (key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); }
    else if ((key === "a" || key === "s" || key === "d") && current >= 0) {
      var button = items[current].querySelector("button[data-key='" + key + "']");
      if (button) { event.preventDefault(); button.click(); }
    }
  });
}());
