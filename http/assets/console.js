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
