/* saiping organiser console: progressive enhancement only (every form also works as a plain POST).
 * - exports: poll GET /api/v1/admin/exports/<id> (the cookie session; a GET needs no CSRF header) while a
 *   job is queued or running, and show its percent, then the download link;
 * - issued links: a 复制 button beside each URL;
 * - organisation award: re-tick the system's suggestion.
 * No inline scripts or styles (the pages' CSP allows 'self' only); text goes in via textContent. */
(function () {
  "use strict";

  // ---- exports: follow running jobs --------------------------------------------------------------------
  var STATUS = { queued: "排队中", running: "生成中", done: "已完成", failed: "失败" };
  var POLL_MS = 1500;

  function follow(row) {
    var id = row.getAttribute("data-export-job");
    var bar = row.querySelector("progress");
    var percent = row.querySelector(".job-percent");
    var statusCell = row.querySelector(".job-status");
    var download = row.querySelector(".job-download");
    var failures = 0;

    function show(job) {
      var value = Math.max(0, Math.min(100, Number(job.percent) || 0));
      bar.value = value;
      bar.textContent = value + "%";
      percent.textContent = value + "%";
      statusCell.textContent = (STATUS[job.status] || job.status) + (job.error ? "：" + job.error : "");
      row.setAttribute("data-status", job.status);
      if (job.status === "done" && job.url) {
        var link = document.createElement("a");
        link.href = job.url;
        link.setAttribute("download", "");
        link.textContent = "下载 " + (job.filename || "");
        download.textContent = "";
        download.appendChild(link);
      }
    }

    function tick() {
      fetch("/api/v1/admin/exports/" + encodeURIComponent(id), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (job) {
        failures = 0;
        show(job);
        if (job.status === "queued" || job.status === "running") { window.setTimeout(tick, POLL_MS); }
        else { settled(); }
      }).catch(function () {
        failures += 1;
        if (failures < 5) { window.setTimeout(tick, POLL_MS * (failures + 1)); }
        else { statusCell.textContent = "无法获取进度，请刷新页面"; }
      });
    }
    window.setTimeout(tick, 300);
  }

  // the hint "页面会自动更新进度" goes once nothing is queued or running any more
  function settled() {
    var hint = document.getElementById("export-hint");
    if (hint && !document.querySelector("tr[data-status=queued], tr[data-status=running]")) { hint.hidden = true; }
  }

  Array.prototype.forEach.call(document.querySelectorAll("tr[data-export-job]"), function (row) {
    var status = row.getAttribute("data-status");
    if (status === "queued" || status === "running") { follow(row); }
  });

  // ---- issued links: copy ------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { button.textContent = "已复制"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
      }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.link-url"), function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // ---- organisation award: back to the suggestion --------------------------------------------------------
  var resetButton = document.querySelector("button[data-select-suggested]");
  if (resetButton) {
    resetButton.hidden = false;
    resetButton.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll("#award-form input[name=units]"), function (box) {
        box.checked = box.hasAttribute("data-suggested");
      });
    });
  }
}());
