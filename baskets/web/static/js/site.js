// Small behaviours the pages work without: a print button, and focus on a form's errors.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var errors = document.getElementById("erreurs");
  if (errors) { errors.focus(); }
})();
