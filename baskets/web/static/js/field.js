// The field pages (round sheet, a point's distribution list) with or without network.
// Without JavaScript every button is a plain form. With it: "Fait", "Problème" and "Retiré"
// are queued in this browser (localStorage, per account), shown at once, and sent when the
// network allows, each with its own Idempotency-Key so that sending twice changes nothing.
// What is waiting is said on the page; a mark the server refuses stays listed, with the
// server's reason, until the person dismisses it. The service worker (sw.js) keeps the
// pages themselves available offline.
(function () {
  "use strict";
  var root = document.querySelector("[data-field-queue]");
  if ("serviceWorker" in navigator && document.querySelector("[data-field-page]")) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      document.documentElement.setAttribute("data-offline-ready", "1");
    }).catch(function () { /* the page works online without it */ });
  }
  // Navigation: geo: links only help on Android.
  if (!/Android/i.test(navigator.userAgent)) {
    document.querySelectorAll("[data-android-only]").forEach(function (link) { link.hidden = true; });
  }
  setupSearch();
  if (!root) { return; }

  var messages = JSON.parse(document.getElementById("field-messages").textContent);
  var owner = root.getAttribute("data-field-queue");
  var storageKey = "baskets.queue." + owner;
  var statusBox = root.querySelector("[data-queue-status]");
  var sentThisPage = [];
  var sending = false;
  var retryTimer = null;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "[]"); }
    catch (e) { return []; }
  }
  function save(queue) { window.localStorage.setItem(storageKey, JSON.stringify(queue)); }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function text(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }
  function csrf() {
    var field = document.querySelector("input[name='csrf_token']");
    return field ? field.value : "";
  }

  // ------------------------------------------------------------------ what the page shows

  function targetOf(entry) { return document.getElementById(entry.target); }

  function show(entry, state) {
    // state: "waiting", "sent" or "refused"
    var element = targetOf(entry);
    if (!element) { return; }
    element.setAttribute("data-state", state === "refused" ? element.getAttribute("data-server") || "" : entry.state);
    element.classList.toggle("mark-waiting", state === "waiting");
    element.classList.toggle("mark-refused", state === "refused");
    var label = element.querySelector("[data-state-label]");
    if (label) {
      if (state === "refused") {
        label.textContent = text(messages.refused_here, { reason: entry.message || "" });
      } else {
        label.textContent = messages.states[entry.state] + (state === "waiting" ? " — " + messages.waiting_here : "");
      }
    }
    if (entry.kind === "stop") { stopShown(element, state); }
    counters();
  }

  function stopShown(element, state) {
    var details = element.querySelector("details.stop-details");
    if (state === "refused" || !details) { return; }
    details.open = false;
    var next = null;
    document.querySelectorAll("[data-stop]").forEach(function (stop) {
      if (!next && stop.getAttribute("data-state") === "pending") { next = stop; }
    });
    if (next) {
      var nextDetails = next.querySelector("details.stop-details");
      if (nextDetails && !nextDetails.open) {
        nextDetails.open = true;
        next.scrollIntoView({ block: "start" });
      }
    }
  }

  function counters() {
    var stops = document.querySelectorAll("[data-stop]");
    var progress = document.querySelector("[data-stops-done]");
    if (progress && stops.length) {
      var done = 0;
      stops.forEach(function (stop) { if (stop.getAttribute("data-state") !== "pending") { done += 1; } });
      progress.textContent = String(done);
    }
    var collected = document.querySelector("[data-collected]");
    if (collected) {
      var count = Number(collected.getAttribute("data-collected"));
      document.querySelectorAll("[data-basket]").forEach(function (basket) {
        var now = basket.getAttribute("data-state") === "collected";
        var before = basket.getAttribute("data-server") === "collected";
        count += (now ? 1 : 0) - (before ? 1 : 0);
      });
      collected.textContent = String(count);
    }
  }

  function report() {
    var queue = load();
    var waiting = queue.filter(function (e) { return e.status === "waiting"; });
    var refused = queue.filter(function (e) { return e.status === "refused"; });
    statusBox.textContent = "";
    statusBox.hidden = !waiting.length && !refused.length && !sentThisPage.length;
    var line = document.createElement("p");
    if (waiting.length) {
      line.textContent = text(waiting.length > 1 ? messages.waiting_many : messages.waiting_one,
                              { n: waiting.length }) + " " +
        (navigator.onLine ? messages.sending : messages.offline);
      statusBox.className = "queue-status waiting";
    } else {
      line.textContent = messages.all_sent;
      statusBox.className = "queue-status sent";
    }
    statusBox.appendChild(line);
    if (waiting.length) {
      var list = document.createElement("ul");
      waiting.forEach(function (entry) {
        var item = document.createElement("li");
        item.textContent = entry.label;
        list.appendChild(item);
      });
      statusBox.appendChild(list);
    }
    refused.forEach(function (entry) {
      var box = document.createElement("div");
      box.className = "refused";
      var reason = document.createElement("p");
      reason.textContent = text(messages.refused, { label: entry.label, reason: entry.message || "" });
      var dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.textContent = messages.dismiss;
      dismiss.addEventListener("click", function () {
        save(load().filter(function (e) { return e.key !== entry.key; }));
        report();
      });
      box.appendChild(reason);
      box.appendChild(dismiss);
      statusBox.appendChild(box);
    });
  }

  // ------------------------------------------------------------------ sending

  function finish(entry, status, message) {
    var queue = load();
    var kept = [];
    queue.forEach(function (e) {
      if (e.key !== entry.key) { kept.push(e); return; }
      if (status === "refused") { e.status = "refused"; e.message = message; kept.push(e); }
    });
    save(kept);
    if (status === "sent") { sentThisPage.push(entry); }
    entry.message = message;
    show(entry, status);
  }

  function send(entry) {
    var body = new FormData();
    Object.keys(entry.fields).forEach(function (name) { body.append(name, entry.fields[name]); });
    body.append("csrf_token", csrf());
    return fetch(entry.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": entry.key, "Accept": "application/json" }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && json) { finish(entry, "sent"); return "sent"; }
      if (json && response.status >= 400 && response.status < 500) {
        return response.json().then(function (data) {
          finish(entry, "refused", (data.error && data.error.message) || String(response.status));
          return "refused";
        });
      }
      // Logged out, an expired form or a server hiccup: keep it and say why.
      if (response.type === "opaqueredirect" || response.status === 403) { return "login"; }
      return "later";
    });
  }

  function flush() {
    if (sending) { return; }
    if (!navigator.onLine) { report(); return; }
    var waiting = load().filter(function (e) { return e.status === "waiting"; });
    if (!waiting.length) { report(); return; }
    sending = true;
    var index = 0;
    function step(outcome) {
      if (outcome === "login" || outcome === "later") {
        sending = false;
        report();
        if (outcome === "login") { statusBox.appendChild(paragraph(messages.login)); }
        schedule();
        return;
      }
      if (index >= waiting.length) { sending = false; report(); flushAgain(); return; }
      var entry = waiting[index];
      index += 1;
      send(entry).then(step, function () {
        // No network: everything stays queued.
        sending = false;
        report();
        schedule();
      });
    }
    step("sent");
  }
  function flushAgain() {
    // Marks queued while sending go out too.
    if (load().some(function (e) { return e.status === "waiting"; })) { flush(); }
  }
  function schedule() {
    if (retryTimer) { return; }
    retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, 30000);
  }
  function paragraph(content) {
    var p = document.createElement("p");
    p.textContent = content;
    return p;
  }

  // ------------------------------------------------------------------ taking a mark

  document.querySelectorAll("form[data-mark]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = {};
      new FormData(form, event.submitter || null).forEach(function (value, name) {
        if (name !== "csrf_token") { fields[name] = String(value); }
      });
      var target = document.getElementById(form.getAttribute("data-target"));
      var entry = {
        key: newKey(), kind: form.getAttribute("data-mark"), target: form.getAttribute("data-target"),
        state: form.getAttribute("data-state") || (event.submitter && event.submitter.getAttribute("data-state")),
        url: form.getAttribute("action"), fields: fields, label: form.getAttribute("data-label"),
        was: target ? target.getAttribute("data-server") : "", status: "waiting",
        createdAt: new Date().toISOString()
      };
      var queue = load();
      queue.push(entry);
      save(queue);
      var problem = form.closest("details.problem");
      if (problem) { problem.open = false; }
      show(entry, "waiting");
      report();
      flush();
    });
  });

  // Marks already waiting from before a reload are shown on the page as it is now.
  load().forEach(function (entry) { show(entry, entry.status === "refused" ? "refused" : "waiting"); });
  report();
  window.addEventListener("online", flush);
  window.addEventListener("offline", report);
  if (navigator.onLine) { flush(); }

  // ------------------------------------------------------------------ search

  function setupSearch() {
    var form = document.querySelector("form[data-live-search]");
    if (!form) { return; }
    var input = form.querySelector("input[type='search']");
    var items = document.querySelectorAll("[data-search]");
    var counter = document.querySelector("[data-search-count]");
    function normalise(value) {
      return value.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    }
    function apply() {
      var wanted = normalise(input.value.trim());
      var shown = 0;
      items.forEach(function (item) {
        var match = !wanted || normalise(item.getAttribute("data-search")).indexOf(wanted) !== -1;
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      if (counter) { counter.textContent = String(shown); }
    }
    input.addEventListener("input", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }
})();
