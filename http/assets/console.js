// promokit console: small progressive enhancements. Every page works
// without this script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A refused form: move the focus to the summary of its errors, so that a
  // screen reader reads them and the keyboard starts there.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Copy buttons: <button data-copy="ID" hidden> copies the value of the
  // input ID. They stay hidden where the clipboard is not available.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
      }, function () {
        input.select();
        button.textContent = "Select and copy";
      });
    });
  });
});

// A job's page: while the job runs, ask for its progress every half
// second and move the bar; when it ends, load the page again for its
// final state. Without the script the page reloads itself instead.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("job");
  if (!box || !box.hasAttribute("data-running") || !window.fetch) return;
  var bar = document.getElementById("job-bar");
  var poll = function () {
    fetch(box.getAttribute("data-job"), { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error(res.status);
      return res.json();
    }).then(function (j) {
      bar.max = j.total;
      bar.value = j.done;
      var pct = j.total > 0 ? Math.floor(j.done * 100 / j.total) : 0;
      bar.textContent = pct + " %";
      document.getElementById("job-done").textContent = j.done;
      document.getElementById("job-percent").textContent = pct;
      document.getElementById("job-state").textContent = j.state;
      if (j.state === "succeeded" || j.state === "failed") {
        window.location.reload();
        return;
      }
      setTimeout(poll, 500);
    }).catch(function () { setTimeout(poll, 2000); });
  };
  setTimeout(poll, 500);
});
