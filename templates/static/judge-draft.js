/* saiping judge pages: typed but unsaved scores, 评语 and 辅导意见 are kept as a draft in this browser.
 * - A form with data-draft-key keeps its fields in localStorage under that key (judge + stage + case) on every
 *   input, restores them after a reload, and shows 已保存 / 未保存 against the saved values (data-saved, JSON
 *   [[name, value], ...] or null). Leaving with unsaved input asks first (beforeunload).
 * - A draft never leaves the browser by itself: only the judge's own 保存评分 / 提交辅导意见 sends the form.
 *   The draft is dropped once it equals what is saved, and after a successful save (the /judge page the save
 *   lands on carries data-draft-done; sessionStorage remembers which form was submitted).
 * Plain ES5 for WeChat's browser; storage that is missing or full only turns the draft off. */
(function () {
  "use strict";

  var PREFIX = "saiping-draft:";
  var SUBMITTED = "saiping-draft-submitted";

  function storage(kind) {
    try {
      var store = window[kind];
      var probe = PREFIX + "probe";
      store.setItem(probe, "1");
      store.removeItem(probe);
      return store;
    } catch (e) {
      return null;
    }
  }

  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function forget(store, key) {
    if (store) { try { store.removeItem(key); } catch (e) { /* nothing to do */ } }
  }

  // ---- the page a successful save lands on: drop the draft of the form that was sent ----------------
  if (document.querySelector("script[data-draft-done]") && session) {
    var sent = session.getItem(SUBMITTED);
    if (sent && sent.indexOf(PREFIX) === 0) { forget(local, sent); }
    forget(session, SUBMITTED);
  }

  function fields(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input[name], textarea[name]"), function (field) {
      return field.type !== "hidden" && field.type !== "file" && field.name !== "csrf_token";
    });
  }

  function normal(field, value) {
    var text = String(value == null ? "" : value).replace(/\r\n?/g, "\n").replace(/^\s+|\s+$/g, "");
    if (field === "number" && text !== "" && isFinite(Number(text))) { return String(Number(text)); }
    return text;
  }

  /* [[name, value], ...] in page order; blank entries of a list field (data-draft-list) are not input. */
  function snapshot(form, listName) {
    return fields(form).map(function (field) { return [field.name, field.value]; })
      .filter(function (pair) { return !(pair[0] === listName && normal("", pair[1]) === ""); });
  }

  function same(form, a, b) {
    if (!a || !b || a.length !== b.length) { return false; }
    var kinds = {};
    fields(form).forEach(function (field) { kinds[field.name] = field.type; });
    for (var i = 0; i < a.length; i += 1) {
      if (a[i][0] !== b[i][0] || normal(kinds[a[i][0]], a[i][1]) !== normal(kinds[b[i][0]], b[i][1])) { return false; }
    }
    return true;
  }

  function empty(pairs) {
    return pairs.every(function (pair) { return normal("", pair[1]) === ""; });
  }

  function fire(form) {
    var event;
    try {
      event = new Event("input", { bubbles: true });
    } catch (e) {
      event = document.createEvent("Event");
      event.initEvent("input", true, true);
    }
    form.dispatchEvent(event);
  }

  /* Put a draft's values back into the form; a list field gets as many boxes as the draft has entries. */
  function restore(form, pairs, listName) {
    var list = pairs.filter(function (pair) { return pair[0] === listName; }).map(function (pair) { return pair[1]; });
    if (listName) {
      var add = form.querySelector(".add-point");
      var boxes = function () { return form.querySelectorAll("textarea[name='" + listName + "']"); };
      var wanted = Math.max(list.length, 1);
      while (add && boxes().length < wanted && !add.hidden) { add.click(); }
      while (boxes().length > wanted) {
        var last = boxes()[boxes().length - 1].closest("li");
        var remove = last && last.querySelector(".remove-point");
        if (!remove) { break; }
        remove.click();
      }
      Array.prototype.forEach.call(boxes(), function (box, i) { box.value = list[i] || ""; });
      var focused = document.activeElement;
      if (focused && focused !== document.body && form.contains(focused)) { focused.blur(); }   // no keyboard on load
    }
    fields(form).forEach(function (field) {
      if (field.name === listName) { return; }
      for (var i = 0; i < pairs.length; i += 1) {
        if (pairs[i][0] === field.name) { field.value = pairs[i][1]; return; }
      }
    });
    fire(form);
  }

  function read(key) {
    try {
      var draft = JSON.parse(local.getItem(key) || "null");
      return draft && draft.values && draft.values.length !== undefined ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function setUp(form) {
    var key = form.getAttribute("data-draft-key");
    var listName = form.getAttribute("data-draft-list") || "";
    var box = form.querySelector("[data-draft-state]");
    if (!key || key.indexOf(PREFIX) !== 0 || !box) { return; }
    var saved = null;
    try { saved = JSON.parse(form.getAttribute("data-saved") || "null"); } catch (e) { saved = null; }
    var stateText = box.querySelector("strong");
    var hint = box.querySelector("span");
    var restored = false;
    var dirty = false;
    var submitting = false;

    forget(session, SUBMITTED);   // this page was reached, so no submission of it is pending any more
    var draft = local ? read(key) : null;
    if (draft && !same(form, draft.values, snapshot(form, listName))) {
      restore(form, draft.values, listName);
      restored = true;
    }

    var update = function () {
      var now = snapshot(form, listName);
      var isSaved = saved ? same(form, now, saved) : empty(now);
      dirty = !isSaved;
      if (dirty) {
        if (local) {
          try { local.setItem(key, JSON.stringify({ values: now, at: new Date().getTime() })); } catch (e) { /* full */ }
        }
        stateText.textContent = "未保存";
        hint.textContent = (restored ? "已恢复上次未保存的输入。" : "") +
          (local ? "输入已暂存在本机，" : "") + "请点击“" + form.getAttribute("data-draft-button") + "”提交。";
      } else {
        forget(local, key);
        stateText.textContent = saved ? "已保存" : "尚未填写";
        hint.textContent = saved ? "与已提交的内容一致。" : "";
      }
      box.className = "draft-state " + (dirty ? "is-unsaved" : saved ? "is-saved" : "is-empty");
      box.hidden = false;
    };

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".remove-point")) { window.setTimeout(update, 0); }
    });
    form.addEventListener("submit", function () {
      submitting = true;
      if (session) { try { session.setItem(SUBMITTED, key); } catch (e) { /* the draft then waits for equality */ } }
    });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty || submitting) { return undefined; }
      var message = "您有未保存的输入，离开本页后需要重新保存。";
      event.preventDefault();
      event.returnValue = message;
      return message;
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { submitting = false; update(); }   // back from the next page (bfcache)
    });
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-key]"), setUp);
}());
