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
// A group revocation's progress page: "n of m users" from its status, then the outcome.
var revocation = document.querySelector("[data-status-url]");
if (revocation) {
  var poll = function () {
    fetch(revocation.getAttribute("data-status-url"), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        document.getElementById("revocation-done").textContent = status.done;
        document.getElementById("revocation-total").textContent = status.total;
        var bar = document.getElementById("revocation-bar");
        bar.max = status.total || 1;
        bar.value = status.done;
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 500);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  };
  poll();
}
