// Keeps a job's progress bar up to date by reading /jobs/{id}/progress until the job ends.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-progress]");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("[data-job-bar]");
  var status = box.querySelector("[data-job-status]");
  var message = box.querySelector("[data-job-message]");
  var error = box.querySelector("[data-job-error]");
  var summary = box.querySelector("[data-job-summary]");
  function show(state) {
    bar.value = state.progress;
    bar.textContent = state.progress + " %";
    status.textContent = state.status_name;
    message.textContent = state.message;
    if (state.error) { error.textContent = state.error; error.hidden = false; }
    if (state.summary && summary) {
      summary.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = state.summary;
      summary.appendChild(strong);
      summary.hidden = false;
    }
    if (state.done) {
      var link = document.querySelector("[data-job-done-link]");
      if (link) { link.classList.add("primary"); link.focus(); }
    }
  }
  function poll() {
    fetch(box.getAttribute("data-job-progress"), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        show(state);
        if (!state.done) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
