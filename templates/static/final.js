/* saiping live final: progressive enhancement of the control page, the big screen and a final judge's list.
 * - [data-live-source]: a server-rendered fragment, fetched again every 2 s and swapped in when it changed
 *   (scores, aggregates and ranks are rendered by the server only; nothing is computed here).
 * - [data-timer]: the presentation clock, ticking locally from the server's elapsed seconds.
 * - [data-signature-source]: a judge's list reloads itself when the case now presenting changes (every 5 s).
 * - form[data-confirm-reveal]: asks before 亮分 while judges are still scoring.
 * - the big screen pages through its rows (data-page) every 10 s when a category has more than fit.
 * Plain ES5 and XMLHttpRequest (WeChat's browser); no inline scripts (CSP 'self'); text via textContent. */
(function () {
  "use strict";

  var LIVE_MS = 2000;
  var SIGNATURE_MS = 5000;
  var PAGE_MS = 10000;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function get(url, accept, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.setRequestHeader("Accept", accept);
    xhr.timeout = 10000;
    xhr.onload = function () { done(xhr.status, xhr.responseText); };
    xhr.onerror = xhr.ontimeout = function () { done(0, ""); };
    xhr.send();
  }

  // ---- the presentation clock -------------------------------------------------------------------------
  var timers = [];
  function clockText(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function bindTimers(root) {
    timers = [];
    each(root.querySelectorAll("[data-timer]"), function (el) {
      timers.push({el: el, total: Number(el.getAttribute("data-total")), warning: Number(el.getAttribute("data-warning")),
                   elapsed: Number(el.getAttribute("data-elapsed")), running: el.getAttribute("data-running") === "1",
                   at: Date.now()});
    });
  }
  function tick() {
    timers.forEach(function (t) {
      var elapsed = t.elapsed + (t.running ? (Date.now() - t.at) / 1000 : 0);
      var remaining = t.total - elapsed;
      var text = remaining >= 0 ? clockText(Math.ceil(remaining)) : "+" + clockText(Math.floor(-remaining));
      if (t.el.textContent !== text) { t.el.textContent = text; }
      t.el.classList.toggle("is-over", remaining < 0);
      t.el.classList.toggle("is-warning", remaining >= 0 && remaining <= t.warning && elapsed > 0);
    });
  }

  // ---- the big screen's pages -------------------------------------------------------------------------
  var page = 0;
  function showPage(root) {
    var live = root.querySelector("[data-pages]");
    var pages = live ? Number(live.getAttribute("data-pages")) : 1;
    if (pages <= 1) { return; }
    page = page % pages;
    each(root.querySelectorAll("tr[data-page]"), function (tr) {
      tr.hidden = Number(tr.getAttribute("data-page")) !== page;
    });
    var label = root.querySelector("[data-board-page]");
    if (label) { label.textContent = "第 " + (page + 1) + " / " + pages + " 页"; }
  }

  // ---- fragments that keep themselves fresh -------------------------------------------------------------
  each(document.querySelectorAll("[data-live-source]"), function (box) {
    var status = document.querySelector("[data-live-status]");
    var last = null;
    var say = function (text, bad) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("is-error", !!bad);
    };
    var poll = function () {
      get(box.getAttribute("data-live-source"), "text/html", function (code, text) {
        if (code === 200 && text.indexOf("<html") === -1) {
          if (text !== last) {
            box.innerHTML = text;
            last = text;
            bindTimers(document);
            showPage(box);
          }
          var now = new Date();
          var hh = function (n) { return (n < 10 ? "0" : "") + n; };
          say("已更新 " + hh(now.getHours()) + ":" + hh(now.getMinutes()) + ":" + hh(now.getSeconds()) + " · 每 2 秒自动更新", false);
        } else if (code === 200 || code === 401 || code === 403) {
          say("登录已失效，请在本机重新登录主办单位帐号", true);
        } else {
          say(code ? "更新失败（" + code + "），正在重试…" : "连接中断，正在重试…", true);
        }
        window.setTimeout(poll, LIVE_MS);
      });
    };
    window.setTimeout(poll, LIVE_MS);
    if (box.querySelector("[data-pages]")) {
      showPage(box);
      window.setInterval(function () { page += 1; showPage(box); }, PAGE_MS);
    }
  });
  bindTimers(document);
  if (timers.length || document.querySelector("[data-live-source]")) {
    window.setInterval(tick, 250);
    tick();
  }

  // ---- 亮分 while judges are still scoring -------------------------------------------------------------------
  each(document.querySelectorAll("form[data-confirm-reveal]"), function (form) {
    form.addEventListener("submit", function (event) {
      var now = document.querySelector(".live-now");
      if (!now) { return; }
      var scored = Number(now.getAttribute("data-scored")), assigned = Number(now.getAttribute("data-assigned"));
      if (scored < assigned && !window.confirm("还有 " + (assigned - scored) + " 位评委未评分（已评分 " + scored + " / " +
                                               assigned + "），确定现在亮分吗？")) {
        event.preventDefault();
      }
    });
  });

  // ---- a final judge's list: reload when the case now presenting changes --------------------------------------
  var list = document.querySelector("[data-signature-source]");
  if (list) {
    var check = function () {
      get(list.getAttribute("data-signature-source"), "application/json", function (code, text) {
        if (code === 200) {
          var data = null;
          try { data = JSON.parse(text); } catch (e) { data = null; }
          if (data && typeof data.signature === "string" && data.signature !== list.getAttribute("data-signature")) {
            window.location.reload();
            return;
          }
        }
        window.setTimeout(check, SIGNATURE_MS);
      });
    };
    window.setTimeout(check, SIGNATURE_MS);
  }
})();
