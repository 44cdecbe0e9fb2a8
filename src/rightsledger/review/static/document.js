// Document page: pick evidence by selecting text; link highlights and fact cards.
// Offsets are counted in Unicode code points, as Python counts them in the ledger.
(function () {
  "use strict";
  var text = document.getElementById("doctext");
  if (!text) return;
  var current = null; // {start, end, text}

  function codePoints(s) { return Array.from(s).length; }

  function offsetOf(node, offset) {
    var range = document.createRange();
    range.setStart(text, 0);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }

  function readSelection() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    var r = sel.getRangeAt(0);
    if (!text.contains(r.startContainer) || !text.contains(r.endContainer)) return;
    var start = offsetOf(r.startContainer, r.startOffset);
    var end = offsetOf(r.endContainer, r.endOffset);
    if (end <= start) return;
    current = { start: start, end: end, text: r.toString() };
    var out = document.getElementById("selection");
    if (out) out.textContent = "“" + current.text + "” (" + start + "–" + end + ")";
  }

  text.addEventListener("mouseup", readSelection);
  text.addEventListener("keyup", readSelection);

  document.querySelectorAll("button.use-selection").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = button.closest("form");
      var shown = form.querySelector(".sel-text");
      if (!current) { shown.textContent = "select words in the text first"; return; }
      form.querySelector(".sel-start").value = String(current.start);
      form.querySelector(".sel-end").value = String(current.end);
      shown.textContent = "“" + current.text + "”";
    });
  });

  function focus(ids) {
    document.querySelectorAll(".focus").forEach(function (el) { el.classList.remove("focus"); });
    ids.forEach(function (id) {
      var card = document.getElementById("fact-" + id);
      if (card) card.classList.add("focus");
      document.querySelectorAll("mark.fact").forEach(function (m) {
        if ((m.dataset.facts || "").split(" ").indexOf(id) >= 0) m.classList.add("focus");
      });
    });
  }

  text.addEventListener("click", function (e) {
    var mark = e.target.closest("mark.fact");
    if (!mark || !window.getSelection().isCollapsed) return;
    var ids = (mark.dataset.facts || "").split(" ").filter(Boolean);
    focus(ids);
    var first = document.getElementById("fact-" + ids[0]);
    if (first) first.scrollIntoView({ block: "nearest", behavior: "smooth" });
  });

  document.querySelectorAll(".fact-card").forEach(function (card) {
    card.addEventListener("mouseenter", function () { focus([card.dataset.fact]); });
  });
})();
