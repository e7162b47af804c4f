// Urgent conversations, for the people who chose to hear about them on My
// account: a browser notification that opens the conversation, the alert's
// sound and a count of new alerts in the tab's title. Browsers allow
// notifications only in a secure context (HTTPS or localhost) and sound only
// after the user's first click in the page; elsewhere the in-page alert, the
// count and the sound (once allowed) stand in.
(function () {
  "use strict";
  var body = document.body;
  var wantBrowser = body.getAttribute("data-urgent-browser") === "1";
  var wantSound = body.getAttribute("data-urgent-sound") === "1";
  var sound = document.getElementById("urgent-sound");
  var baseTitle = document.title;
  var unseen = 0;

  function notificationsAllowed() {
    return window.isSecureContext && "Notification" in window && Notification.permission === "granted";
  }

  // The count in the title goes once the reader is back in the page.
  function badge() { document.title = unseen > 0 ? "(" + unseen + ") " + baseTitle : baseTitle; }
  function seen() { if (unseen > 0) { unseen = 0; badge(); } }
  window.addEventListener("focus", seen);
  document.addEventListener("pointerdown", seen);
  document.addEventListener("keydown", seen);

  // play rings the alert's sound; before the user's first click the browser
  // refuses, and the in-page alert and the count still show.
  function play() {
    if (!sound) { return; }
    sound.currentTime = 0;
    var p = sound.play();
    var done = function () { sound.setAttribute("data-played", String(Number(sound.getAttribute("data-played") || 0) + 1)); };
    if (p && p.then) { p.then(done, function () { sound.setAttribute("data-blocked", "1"); }); } else { done(); }
  }

  // notify shows a system notification; clicking it opens url here.
  function notify(title, text, url, tag) {
    if (!notificationsAllowed()) { return false; }
    try {
      var n = new Notification(title, {body: text, tag: tag, icon: body.getAttribute("data-icon") || undefined});
      n.onclick = function () { window.focus(); window.location.href = url; n.close(); };
      return true;
    } catch (err) {
      return false; // some mobile browsers show notifications only from a service worker
    }
  }

  // A new urgent alert arrived in the page (see layout.html's #toasts).
  document.addEventListener("htmx:sseMessage", function (e) {
    var t = e.target;
    if (!t || t.id !== "toasts" || !wantBrowser) { return; }
    var toast = t.querySelector(".toast");
    if (!toast) { return; }
    var conv = toast.getAttribute("data-conv");
    var link = toast.querySelector("a[href]");
    var title = toast.querySelector("strong");
    var text = toast.querySelector(".toast-body span");
    unseen++;
    badge();
    if (wantSound) { play(); }
    notify(title ? title.textContent : baseTitle, text ? text.textContent : "", link ? link.href : "/inbox", "sendbox-conv-" + conv);
  });

  // My account: say what this browser allows, ask for permission when the
  // user ticks the box (a click: browsers ask only then), and try it out.
  var status = document.getElementById("nf-status");
  var box = document.getElementById("nf-browser");
  if (status && box) {
    var show = function () {
      var state;
      if (!window.isSecureContext) {
        state = "insecure";
      } else if (!("Notification" in window)) {
        state = "unsupported";
      } else if (Notification.permission === "granted") {
        state = "granted";
      } else if (Notification.permission === "denied") {
        state = "denied";
      } else {
        state = "ask";
      }
      status.textContent = status.getAttribute("data-" + state);
      status.setAttribute("data-state", state);
    };
    show();
    box.addEventListener("change", function () {
      if (box.checked && window.isSecureContext && "Notification" in window && Notification.permission === "default") {
        var r = Notification.requestPermission(show);
        if (r && r.then) { r.then(show, show); }
      }
    });
    var tryIt = document.getElementById("nf-try");
    if (tryIt) {
      tryIt.addEventListener("click", function () {
        var soundBox = document.getElementById("nf-sound");
        if (!soundBox || soundBox.checked) { play(); }
        if (box.checked) {
          notify(tryIt.getAttribute("data-title"), tryIt.getAttribute("data-body"), window.location.href, "sendbox-try");
        }
      });
    }
  }
})();
