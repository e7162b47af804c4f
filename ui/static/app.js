// sendbox panel behaviour. The CSP forbids inline script, so everything the
// page does beyond htmx attributes lives here.
(function () {
  "use strict";

  // Keep the thread scrolled to the newest message, unless the reader
  // scrolled up to read older ones.
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 120; }
  function scrollDown(el) { el.scrollTop = el.scrollHeight; }
  var stick = true;
  // Sources the reader opened stay open when a live update redraws the thread.
  var opened = [];
  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = e.detail.target;
    // A live update that changes nothing is not swapped in: the reader's
    // click, focus and selection stay where they were.
    if (t && t.hasAttribute && t.hasAttribute("data-live") && e.detail.xhr && e.detail.xhr.status === 200) {
      if (t._last === e.detail.serverResponse) { e.detail.shouldSwap = false; return; }
      t._last = e.detail.serverResponse;
    }
    if (t && t.classList && t.classList.contains("messages")) {
      stick = nearBottom(t);
      opened = Array.prototype.map.call(t.querySelectorAll("details[id][open]"), function (d) { return d.id; });
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail.target;
    if (t && t.classList && t.classList.contains("messages")) {
      opened.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
      if (stick) { scrollDown(t); }
    }
    if (!t || !t.querySelectorAll) { return; }
    // The copilot's draft or translation goes into the reply box, for the
    // agent to edit before sending.
    t.querySelectorAll("textarea[data-fill]").forEach(function (src) {
      var box = document.getElementById(src.getAttribute("data-fill"));
      if (box) {
        box.value = src.value;
        box.dispatchEvent(new Event("input", {bubbles: true}));
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      }
      src.remove();
    });
  });
  // A new alert (an event from the server) replaces an older one about the
  // same conversation; at most four stay on screen.
  document.addEventListener("htmx:sseMessage", function (e) {
    var t = e.target;
    if (!t || t.id !== "toasts") { return; }
    var seen = {};
    Array.prototype.slice.call(t.querySelectorAll(".toast")).forEach(function (el, i) {
      var conv = el.getAttribute("data-conv");
      if (seen[conv] || i >= 4) { el.remove(); } else { seen[conv] = true; }
    });
  });
  function init(root) {
    // Opened from a search result: show that message, not the newest.
    var m = /^#m(\d+)$/.exec(window.location.hash);
    var target = m && document.getElementById("m" + m[1]);
    if (target) {
      stick = false;
      target.classList.add("target");
      target.scrollIntoView({block: "center"});
      root.querySelectorAll(".phone-msgs").forEach(scrollDown);
    } else {
      root.querySelectorAll(".messages, .phone-msgs").forEach(scrollDown);
    }
    var a = root.querySelector("[data-autofocus]");
    if (a && window.matchMedia("(min-width: 821px)").matches) { a.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });

  // The flow editor saves on every change and redraws itself: what is being
  // typed in the focused box when the answer comes back stays as typed
  // (htmx keeps the focus; the value is ours to keep).
  var typing = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    typing = null;
    var t = e.detail.target, a = document.activeElement;
    if (!t || !a || !a.id || !t.contains(a) || !a.closest("[data-keep-typing]")) { return; }
    if (a.tagName === "TEXTAREA" || (a.tagName === "INPUT" && /^(text|number|search)$/.test(a.type))) {
      typing = {id: a.id, value: a.value};
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!typing) { return; }
    var el = document.getElementById(typing.id);
    if (el && el.value !== typing.value) {
      var pos = el === document.activeElement ? el.selectionStart : null;
      el.value = typing.value;
      if (pos !== null && el.setSelectionRange && el.type !== "number") { el.setSelectionRange(typing.value.length, typing.value.length); }
    }
    typing = null;
  });
  // Choosing the type of a step to add is not an edit: it does not save
  // (and redraw) the flow editor, which listens on the form.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select.add-type")) { e.stopPropagation(); }
  }, true);
  // The variables list puts {{a.variable}} into the text box last in focus.
  var varTarget = null;
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-vars]")) { varTarget = e.target.id; }
  });

  // After a successful send, empty the composer and keep the focus in it.
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.detail.elt;
    if (!f || f.tagName !== "FORM" || !f.hasAttribute("data-reset")) { return; }
    if (e.detail.successful) {
      f.reset();
      var ta = f.querySelector("textarea, input[type=text]");
      if (ta) { ta.focus(); }
      f.querySelectorAll("[data-clear]").forEach(function (el) { el.innerHTML = ""; });
    }
  });

  // Errors from the server: show them where the form says, never silently.
  document.addEventListener("htmx:responseError", function (e) {
    var f = e.detail.elt.closest("form");
    var box = f && f.querySelector(".form-error");
    var msg = e.detail.xhr.getResponseHeader("X-Sendbox-Error") || "Something went wrong (" + e.detail.xhr.status + ")";
    if (box) { box.textContent = msg; box.hidden = false; } else { window.alert(msg); }
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    // Only the form's own request clears its error: a template preview
    // fired by the last keystrokes must not hide why a send was refused.
    if (e.detail.elt.tagName !== "FORM") { return; }
    var f = e.detail.elt.closest && e.detail.elt.closest("form");
    var box = f && f.querySelector(".form-error");
    if (box) { box.hidden = true; box.textContent = ""; }
  });

  document.addEventListener("change", function (e) {
    var t = e.target;
    // A canned reply goes into the text box at the cursor.
    if (t.matches("select[data-canned]")) {
      var ta = document.getElementById(t.getAttribute("data-canned"));
      if (ta && t.value) {
        var s = ta.selectionStart || ta.value.length;
        ta.value = ta.value.slice(0, s) + t.value + ta.value.slice(ta.selectionEnd || s);
        ta.focus();
      }
      t.value = "";
    }
    // Reply or private note: the composer shows which.
    if (t.matches("input[name=mode]")) {
      var c = t.closest(".composer");
      if (c) { c.classList.toggle("note-mode", t.value === "note" && t.checked); }
    }
    // Snoozing until a chosen time shows the time input.
    if (t.matches(".snooze select")) {
      t.form.classList.toggle("custom", t.value === "custom");
      if (t.value === "custom") { t.form.querySelector(".snooze-until").focus(); }
    }
    // Show the name of the file chosen in a visually hidden file input.
    if (t.matches("input[type=file][data-filename]")) {
      var out = document.getElementById(t.getAttribute("data-filename"));
      if (out) { out.textContent = t.files && t.files.length ? t.files[0].name : ""; }
    }
    // Selects that submit their form (filters, assignment) when changed.
    if (t.matches("[data-submit-on-change]")) {
      var form = t.form;
      if (form && !form.hasAttribute("hx-get") && !form.hasAttribute("hx-post")) { form.requestSubmit(); }
    }
  });

  // Ctrl/Cmd+Enter sends from a text box; Escape closes the newest alert.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var toast = document.querySelector("#toasts .toast");
      if (toast && toast.contains(document.activeElement)) { toast.remove(); }
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.matches("textarea")) {
      e.preventDefault();
      if (e.target.form) { e.target.form.requestSubmit(); }
    }
  });

  // The contact details panel on narrow screens.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-toggle-details]");
    if (b) {
      var inbox = document.querySelector(".inbox");
      if (inbox) {
        var open = inbox.classList.toggle("show-details");
        b.setAttribute("aria-expanded", open ? "true" : "false");
      }
    }
    // Closing an alert or the copilot's answer.
    var d = e.target.closest("[data-dismiss]");
    if (d) {
      var box = d.closest(".toast, .copilot-result");
      if (box) {
        var back = box.classList.contains("copilot-result") && document.getElementById("reply-body");
        box.remove();
        if (back) { back.focus(); }
      }
    }
    var chip = e.target.closest("[data-insert]");
    if (chip) {
      var text = chip.getAttribute("data-insert");
      var box = varTarget && document.getElementById(varTarget);
      if (box && !box.disabled) {
        var at = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
        var end = typeof box.selectionEnd === "number" ? box.selectionEnd : at;
        box.value = box.value.slice(0, at) + text + box.value.slice(end);
        box.focus();
        box.setSelectionRange(at + text.length, at + text.length);
        box.dispatchEvent(new Event("change", {bubbles: true}));
      } else if (navigator.clipboard) {
        navigator.clipboard.writeText(text);
      }
    }
    var c = e.target.closest("[data-confirm]");
    if (c && !window.confirm(c.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
})();
