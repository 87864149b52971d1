/* saiping judge and live-final pages: progressive enhancement only (every form also works as a plain POST).
 * - the scoring form's live total; the coaching form's numbered points (add/remove in place, at least one)
 * - the host's presentation timer; print; judge import (the live final's screens: final.js).
 * No inline scripts or styles anywhere (the pages' CSP allows 'self' only); text goes in via textContent. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // ---- the scoring form: live total ---------------------------------------------------------------
  var scoreForm = $("score-form");
  if (scoreForm) {
    var totalBox = $("score-total");
    var inputs = Array.prototype.slice.call(scoreForm.querySelectorAll("input[data-score]"));
    var updateTotal = function () {
      var tenths = 0;
      inputs.forEach(function (input) {
        var text = input.value.trim();
        var value = Number(text);
        var max = Number(input.getAttribute("max"));
        var bad = text !== "" && (!isFinite(value) || value < 0 || value > max ||
                                  Math.abs(Math.round(value * 10) - value * 10) > 1e-9);
        input.classList.toggle("out-of-range", bad);
        if (text !== "" && isFinite(value)) { tenths += Math.round(value * 10); }
      });
      var total = tenths / 10;
      totalBox.textContent = String(total);
      totalBox.classList.toggle("over", total > Number(totalBox.dataset.max));
    };
    scoreForm.addEventListener("input", updateTotal);
    updateTotal();
  }

  // ---- the coaching form: numbered points -----------------------------------------------------------
  var pointList = document.querySelector("[data-feedback-points]");
  if (pointList) {
    var feedbackForm = pointList.closest("form");
    var addButton = feedbackForm.querySelector(".add-point");
    var MAX_POINTS = 10;
    var items = function () { return Array.prototype.slice.call(pointList.querySelectorAll("li.point")); };
    var renumber = function () {
      var all = items();
      all.forEach(function (li, i) {
        var label = li.querySelector("label");
        var area = li.querySelector("textarea");
        var remove = li.querySelector(".remove-point");
        area.id = "f-point-" + i;
        label.setAttribute("for", area.id);
        label.textContent = "意见" + (i + 1);
        remove.querySelector(".visually-hidden").textContent = "意见" + (i + 1);
        remove.hidden = all.length <= 1;
      });
      addButton.hidden = all.length >= MAX_POINTS;
    };
    var makeItem = function () {
      var li = document.createElement("li");
      li.className = "field point";
      var label = document.createElement("label");
      var area = document.createElement("textarea");
      area.name = "points";
      area.rows = 4;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove-point link-button";
      remove.appendChild(document.createTextNode("删除"));
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      remove.appendChild(hidden);
      li.appendChild(label);
      li.appendChild(area);
      li.appendChild(remove);
      return li;
    };
    addButton.addEventListener("click", function () {
      var li = makeItem();
      pointList.appendChild(li);
      renumber();
      li.querySelector("textarea").focus();
    });
    pointList.addEventListener("click", function (event) {
      var button = event.target.closest(".remove-point");
      if (!button || items().length <= 1) { return; }
      var li = button.closest("li.point");
      var next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      renumber();
      if (next) { next.querySelector("textarea").focus(); }
    });
    renumber();
  }

  // ---- print ----------------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // ---- the host's timer -----------------------------------------------------------------------------
  var timer = $("timer");
  if (timer) {
    var TOTAL_MS = (parseInt(timer.dataset.seconds, 10) || 480) * 1000;
    var WARN_MS = (parseInt(timer.dataset.warn, 10) || 60) * 1000;
    var display = $("timer-display");
    var stateBox = $("timer-state");
    var startButton = $("timer-start");
    var pauseButton = $("timer-pause");
    var running = false;
    var startedAt = 0;
    var elapsedBefore = 0;
    var tick = null;

    var clock = function (seconds) {
      var m = Math.floor(seconds / 60);
      var s = seconds % 60;
      return m + ":" + (s < 10 ? "0" : "") + s;
    };
    var elapsed = function () { return elapsedBefore + (running ? performance.now() - startedAt : 0); };
    var render = function () {
      var remaining = TOTAL_MS - elapsed();
      var over = remaining < 0;
      var warn = !over && remaining <= WARN_MS && elapsed() > 0;
      display.textContent = over ? "+" + clock(Math.floor(-remaining / 1000)) : clock(Math.ceil(remaining / 1000));
      timer.classList.toggle("is-warning", warn);
      timer.classList.toggle("is-over", over);
      var state;
      if (over) { state = "已超时"; }
      else if (!running && elapsed() === 0) { state = "未开始"; }
      else if (!running) { state = "已暂停"; }
      else if (warn) { state = "剩余不足 1 分钟"; }
      else { state = "计时中"; }
      if (!running && elapsed() > 0) { state += over ? "（已暂停）" : ""; }
      if (stateBox.textContent !== state) { stateBox.textContent = state; }
    };
    var start = function () {
      if (running) { return; }
      running = true;
      startedAt = performance.now();
      tick = window.setInterval(render, 100);
      startButton.disabled = true;
      pauseButton.disabled = false;
      render();
    };
    var pause = function () {
      if (!running) { return; }
      elapsedBefore = elapsed();
      running = false;
      window.clearInterval(tick);
      startButton.disabled = false;
      startButton.textContent = "继续";
      pauseButton.disabled = true;
      render();
    };
    var reset = function () {
      running = false;
      window.clearInterval(tick);
      elapsedBefore = 0;
      startButton.disabled = false;
      startButton.textContent = "开始";
      pauseButton.disabled = true;
      render();
    };
    startButton.addEventListener("click", start);
    pauseButton.addEventListener("click", pause);
    $("timer-reset").addEventListener("click", reset);
    document.addEventListener("keydown", function (event) {
      if (event.target && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(event.target.tagName)) { return; }
      if (event.key === " ") { event.preventDefault(); if (running) { pause(); } else { start(); } }
      else if (event.key === "r" || event.key === "R") { reset(); }
    });
    render();
  }

  // ---- the judges' spreadsheet import -----------------------------------------------------------------
  var importForm = $("judge-import");
  if (importForm) {
    var result = $("import-result");
    var XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    var show = function (className, text, rows) {
      var box = document.createElement("div");
      box.className = className;
      box.setAttribute("role", className === "notice" ? "status" : "alert");
      box.appendChild(cell2("p", text));
      if (rows && rows.length) {
        var table = document.createElement("table");
        table.className = "stages import-errors";
        var head = document.createElement("tr");
        ["行号", "列", "问题"].forEach(function (h) { var th = cell2("th", h); th.scope = "col"; head.appendChild(th); });
        table.createTHead().appendChild(head);
        var body = table.createTBody();
        rows.forEach(function (r) {
          var tr = document.createElement("tr");
          tr.appendChild(cell2("td", "第 " + r.row + " 行"));
          tr.appendChild(cell2("td", r.field));
          tr.appendChild(cell2("td", r.message));
          body.appendChild(tr);
        });
        box.appendChild(table);
      }
      result.replaceChildren(box);
    };
    var cell2 = function (tag, text) { var el = document.createElement(tag); el.textContent = text; return el; };
    importForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = $("f-judge-file").files[0];
      if (!file) { show("error-summary", "请先选择填好的评委名单 .xlsx 文件"); return; }
      var button = importForm.querySelector("button[type=submit]");
      button.disabled = true;
      show("notice", "正在上传并校验…");
      fetch(importForm.dataset.endpoint, {
        method: "POST", body: file, credentials: "same-origin",
        headers: {"Content-Type": XLSX, "X-CSRF-Token": importForm.dataset.csrf, "Accept": "application/json"}
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 201) {
            show("notice", "已导入 " + data.imported + " 位评委。刷新页面可在下方列表中看到。");
          } else {
            var error = (data && data.error) || {};
            show("error-summary", error.message || ("导入失败（" + response.status + "）"), error.rows);
          }
        });
      }).catch(function () {
        show("error-summary", "网络错误，未能上传，请稍后重试");
      }).then(function () { button.disabled = false; });
    });
  }
})();
