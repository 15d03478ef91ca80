// Small behaviours without inline script (the pages' Content-Security-Policy allows only
// scripts served from here): a confirmation before a form with data-confirm is sent, and
// the print button.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
document.addEventListener("click", function (e) {
  if (e.target.hasAttribute && e.target.hasAttribute("data-print")) { window.print(); }
});
// a page showing work in progress (an import) reloads itself until the work is done
(function () {
  var el = document.querySelector("[data-reload]");
  if (el) { setTimeout(function () { location.reload(); }, 1000 * Number(el.getAttribute("data-reload"))); }
})();
