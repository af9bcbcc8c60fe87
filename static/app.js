// Progressive enhancement only: every form works without this script.
// Forms marked data-confirm ask before they are sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Times in the page's language (<html lang>) and the reader's own time zone; the server
// renders them in UTC as a fallback. data-local="absolute" shows the date and time, any
// other value the relative time. Relative times ("2 minutes ago", "2 分前") are kept
// current, with the units and the thirty-day limit the server uses (src/i18n/time.rs).
(function () {
  var lang = document.documentElement.lang || undefined;
  var exact = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "long", day: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  var relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  var MINUTE = 60, HOUR = 3600, DAY = 86400;

  function ago(when, now) {
    var seconds = Math.max(0, Math.floor((now - when) / 1000));
    if (seconds < MINUTE) return relative.format(0, "second");
    if (seconds < HOUR) return relative.format(-Math.floor(seconds / MINUTE), "minute");
    if (seconds < DAY) return relative.format(-Math.floor(seconds / HOUR), "hour");
    if (seconds < 30 * DAY) return relative.format(-Math.floor(seconds / DAY), "day");
    return exact.format(when);
  }

  function refresh() {
    var now = Date.now();
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.title = exact.format(when);
      el.textContent = el.getAttribute("data-local") === "absolute" ? exact.format(when) : ago(when, now);
    });
  }

  refresh();
  setInterval(refresh, 30000);
})();
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
