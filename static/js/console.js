// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Task list: the header checkbox selects every task on the page.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-all") return;
    document.querySelectorAll("input.select-task").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // [data-autosubmit]: a changed choice (or a search box's Enter / leaving it) submits its form:
  // the language switch, the task list's filters.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  // Folder browser: <button data-fill="input id" data-value="path"> puts the path in the input.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill]");
    if (!button) return;
    var input = document.getElementById(button.dataset.fill);
    if (input) input.value = button.dataset.value;
    var pane = button.closest(".browser");  // the choice is made: the browser closes
    if (pane) pane.replaceChildren();
    if (input) input.focus();
  });

  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = button.dataset.copied || "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.copy).then(done);
    } else {  // plain http on a LAN: fall back to a hidden textarea
      var area = document.createElement("textarea");
      area.value = button.dataset.copy;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  });

  // Log search: show only the lines holding the keyword, also for lines that stream in later.
  function filterLog() {
    var input = document.getElementById("log-search");
    var log = document.getElementById("log");
    if (!input || !log) return;
    var needle = input.value.trim().toLowerCase();
    var shown = 0;
    log.querySelectorAll(".line").forEach(function (line) {
      var hit = !needle || line.textContent.toLowerCase().indexOf(needle) !== -1;
      line.hidden = !hit;
      if (hit) shown += 1;
    });
    var count = document.getElementById("log-count");
    if (count) count.textContent = needle ? count.dataset.template.replace("%s", shown) : "";
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "log-search") filterLog();
  });
  document.addEventListener("htmx:afterSettle", filterLog);

  // Detail log: follows the end while lines stream in, unless the reader scrolled up; scrolling
  // back to the end follows again.
  var logFollows = true;
  var autoScrollTop = -1;
  function followLog() {
    var log = document.getElementById("log");
    if (!log || !logFollows) return;
    log.scrollTop = log.scrollHeight;
    autoScrollTop = log.scrollTop;
  }
  document.addEventListener("scroll", function (event) {
    var log = event.target;
    if (log.id !== "log" || Math.abs(log.scrollTop - autoScrollTop) < 2) return;
    logFollows = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  }, true);  // scroll events do not bubble: caught on the way down
  document.addEventListener("htmx:afterSettle", followLog);
  followLog();

  // Create page: the template filters' values ride along in the task form's hidden copies
  // (<input data-mirror="form id" name=...>), so a failed submit comes back with the same filters.
  function mirrorFilter(event) {
    var field = event.target;
    if (!field.form || !field.name) return;
    document.querySelectorAll('input[data-mirror="' + field.form.id + '"]').forEach(function (copy) {
      if (copy.name === field.name) copy.value = field.value;
    });
  }
  document.addEventListener("input", mirrorFilter);
  document.addEventListener("change", mirrorFilter);

  // Create page: re-rendered cards keep the template chosen meanwhile (a card clicked while the
  // filtered cards were on their way); the server already keeps the one chosen when it was asked.
  var chosenBeforeSwap = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "template-cards") return;
    var checked = target.querySelector("input[name=template]:checked");
    chosenBeforeSwap = checked ? checked.value : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!chosenBeforeSwap) return;
    var cards = document.getElementById("template-cards");
    var slug = chosenBeforeSwap;
    chosenBeforeSwap = null;
    if (!cards || cards.querySelector("input[name=template]:checked")) return;
    cards.querySelectorAll("input[name=template]").forEach(function (radio) {
      if (radio.value === slug) radio.checked = true;
    });
  });

  // Create page, after a failed submit: the summary's links focus their field, and the first
  // field in error has the focus (scrolled into view) when the page opens.
  function fieldFor(href) {
    var id = decodeURIComponent((href || "").replace(/^#/, ""));
    var target = document.getElementById(id) || document.getElementById(id + "_0");
    if (target && !target.matches("input, select, textarea, button")) {
      target = target.querySelector("input:checked, input, select, textarea") || target;
    }
    return target;
  }
  function focusField(href) {
    var field = fieldFor(href);
    if (!field) return false;
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
    return true;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (link && focusField(link.getAttribute("href"))) event.preventDefault();
  });
  var firstError = document.querySelector("[data-error-summary] a[href^='#']");
  var summary = document.querySelector("[data-error-summary]");
  if (firstError) focusField(firstError.getAttribute("href"));
  else if (summary) summary.focus();
})();
