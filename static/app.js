// Progressive enhancement only: every form works without this script.
// Forms marked data-confirm ask before they are sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
// Show times in the reader's own time zone; the server renders UTC as a fallback.
document.querySelectorAll("time[data-local]").forEach(function (el) {
  var when = new Date(el.getAttribute("datetime"));
  if (!isNaN(when)) {
    el.title = when.toLocaleString();
    if (el.getAttribute("data-local") === "absolute") {
      el.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }
});
