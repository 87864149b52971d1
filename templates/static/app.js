/* saiping pages: progressive enhancement only; every form also works as a plain POST.
 * On the 说明书 form: add/remove points in place, a live character counter, and attachments uploaded
 * straight to S3 (declare -> presigned POST -> confirm) with 提交 waiting for uploads in flight. */
(function () {
  "use strict";

  // The JSON API with the page's CSRF token (the session is the cookie).
  function jsonApi(csrf, method, path, body) {
    var options = {
      method: method, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/api/v1" + path, options).then(function (response) {
      if (response.status === 204) { return null; }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var error = new Error((data && data.error && data.error.message) || ("服务器返回错误（HTTP " + response.status + "）"));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    }, function () {
      throw new Error("网络连接失败，请检查网络后重试");
    });
  }

  // A file posted straight to S3 with its presigned form; `onProgress` gets whole percents.
  function postFile(upload, file, onProgress) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(upload.fields).forEach(function (key) { data.append(key, upload.fields[key]); });
      data.append("file", file);  // S3 ignores any field after the file: it goes last
      var request = new XMLHttpRequest();
      request.open("POST", upload.url);
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) { onProgress(Math.floor(event.loaded * 100 / event.total)); }
      };
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) { resolve(); return; }
        var error = new Error("文件存储拒绝了上传（HTTP " + request.status + "）");
        error.definite = true;
        reject(error);
      };
      // A network error, or a storage that sends no CORS headers: the confirm step tells what arrived.
      request.onerror = function () { reject(new Error("无法连接文件存储，请检查网络后重试")); };
      request.send(data);
    });
  }

  // A refused form shows its error summary first: move the focus there for keyboard and screen-reader users.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }

  // /register: 所属区 only for 区直 units (without script it stays visible; the server requires it for 区直).
  var unitSystem = document.getElementById("f-unit-system");
  var districtBox = document.querySelector("[data-shown-for-unit-system]");
  if (unitSystem && districtBox) {
    var showDistrict = function () {
      districtBox.hidden = unitSystem.value !== districtBox.getAttribute("data-shown-for-unit-system");
    };
    unitSystem.addEventListener("change", showDistrict);
    showDistrict();
  }

  // /cases/{id}: the 综合评选 presentation (展示材料), declared, posted straight to S3, then verified.
  var presentationForm = document.getElementById("presentation-form");
  if (presentationForm) {
    var presentationInput = document.getElementById("f-presentation");
    var presentationStatus = document.getElementById("presentation-status");
    var presentationPath = "/cases/" + encodeURIComponent(presentationForm.dataset.caseId) + "/presentation";
    var csrf = presentationForm.elements.csrf_token.value;
    var PRESENTATION_TYPES = {
      pdf: "application/pdf", ppt: "application/vnd.ms-powerpoint",
      pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation", mp4: "video/mp4"
    };
    var say = function (text) { presentationStatus.textContent = text; presentationStatus.hidden = !text; };
    presentationInput.addEventListener("change", function () {
      var file = presentationInput.files[0];
      if (!file) { return; }
      var extension = file.name.split(".").pop().toLowerCase();
      presentationInput.disabled = true;
      say("上传中");
      jsonApi(csrf, "POST", presentationPath, {
        filename: file.name, content_type: PRESENTATION_TYPES[extension] || file.type || "application/octet-stream",
        size: file.size
      }).then(function (declared) {
        return postFile(declared.upload, file, function (percent) { say("上传中 " + percent + "%"); });
      }).then(function () {
        say("校验中");
        return jsonApi(csrf, "POST", presentationPath + "/confirm");
      }).then(function () {
        window.location.assign(window.location.pathname + "?done=presentation#presentation");
      }, function (error) {
        say("上传失败：" + error.message);
        presentationInput.disabled = false;
        presentationInput.value = "";
      });
    });
  }

  var form = document.getElementById("case-form");
  if (!form) { return; }

  var MAX_CHARS = parseInt(form.dataset.maxChars, 10) || 3000;
  var MAX_POINTS = parseInt(form.dataset.maxPoints, 10) || 3;
  // Python's str.isspace() set, so the count here equals the server's count_chars.
  var WHITESPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
  var EXT_TYPES = {
    pdf: "application/pdf", doc: "application/msword",
    docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ppt: "application/vnd.ms-powerpoint",
    pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", mp4: "video/mp4"
  };
  var message = document.getElementById("form-message");

  function showMessage(text, info) {
    message.textContent = text;
    message.classList.toggle("info", !!info);
    message.hidden = !text;
  }

  // ---- the page's address: a draft made by a refused 提交 or by an upload is edited at /cases/{id}/edit
  function caseId() { return form.dataset.caseId || ""; }
  function adoptCase(id, version) {
    form.dataset.caseId = id;
    form.setAttribute("action", "/cases/" + encodeURIComponent(id) + "/edit");
    if (version !== undefined) { form.elements.version.value = String(version); }
    if (window.location.pathname !== "/cases/" + id + "/edit") {
      window.history.replaceState(null, "", "/cases/" + encodeURIComponent(id) + "/edit");
    }
  }
  if (caseId()) { adoptCase(caseId()); }

  // ---- character counter -----------------------------------------------------------------------
  var counter = document.querySelector("[data-char-count]");
  var counterBox = document.getElementById("char-count");
  function countChars() {
    var total = 0;
    var fields = [form.elements.title].concat(Array.prototype.slice.call(form.querySelectorAll("textarea[data-counted]")));
    fields.forEach(function (el) {
      if (el) { total += Array.from(el.value.replace(WHITESPACE, "")).length; }
    });
    counter.textContent = String(total);
    counterBox.classList.toggle("over", total > MAX_CHARS);
    return total;
  }
  form.addEventListener("input", function (event) {
    if (event.target === form.elements.title || event.target.hasAttribute("data-counted")) { countChars(); }
  });
  countChars();

  // ---- points (案例创新点 / 案例取得的成果): 1 to MAX_POINTS, added and removed in place -------------------
  function renumber(group) {
    var key = group.dataset.points;
    var label = group.dataset.label;
    var items = group.querySelectorAll(".point");
    Array.prototype.forEach.call(items, function (item, i) {
      var id = "f-" + key + "-" + i;
      var area = item.querySelector("textarea");
      var error = item.querySelector(".field-error");
      area.id = id;
      item.querySelector("label").htmlFor = id;
      item.querySelector("label").textContent = label + (i + 1);
      if (error) { error.id = id + "-error"; area.setAttribute("aria-describedby", error.id); }
      var remove = item.querySelector(".remove-point");
      remove.querySelector(".visually-hidden").textContent = label + (i + 1);
      remove.hidden = items.length <= 1;
    });
    group.querySelector(".add-point").hidden = items.length >= MAX_POINTS;
  }

  function addPoint(group) {
    var items = group.querySelectorAll(".point");
    if (items.length >= MAX_POINTS) { return; }
    var item = document.createElement("div");
    item.className = "field point";
    var label = document.createElement("label");
    var area = document.createElement("textarea");
    area.name = group.dataset.points;
    area.rows = 4;
    area.setAttribute("data-counted", "");
    var remove = button("remove-point link-button", "移除", "");
    item.appendChild(label);
    item.appendChild(area);
    item.appendChild(remove);
    group.insertBefore(item, group.querySelector(".add-point"));
    renumber(group);
    area.focus();
  }

  Array.prototype.forEach.call(form.querySelectorAll(".points"), function (group) {
    renumber(group);
    group.addEventListener("click", function (event) {
      if (event.target.closest(".add-point")) { addPoint(group); return; }
      var remove = event.target.closest(".remove-point");
      if (!remove || group.querySelectorAll(".point").length <= 1) { return; }
      var item = remove.closest(".point");
      var next = item.nextElementSibling && item.nextElementSibling.querySelector("textarea");
      var previous = item.previousElementSibling && item.previousElementSibling.querySelector("textarea");
      item.remove();
      renumber(group);
      countChars();
      (next || previous || group.querySelector(".add-point")).focus();
    });
  });

  // ---- the JSON API (cookie session + the session's CSRF token in a header) ------------------------
  function api(method, path, body) {
    return jsonApi(form.elements.csrf_token.value, method, path, body);
  }

  function value(name) {
    var el = form.elements[name];
    return el ? el.value : "";
  }
  function values(name) {
    return Array.prototype.map.call(form.querySelectorAll("textarea[name='" + name + "']"), function (el) { return el.value; });
  }
  function bodyFromForm() {
    return {
      category: value("category"), recommending_unit: value("recommending_unit"), title: value("title"),
      leader: {
        name: value("leader.name"), position: value("leader.position"), office_phone: value("leader.office_phone"),
        mobile: value("leader.mobile"), gender: value("leader.gender"), rank_level: value("leader.rank_level"),
        birth_date: value("leader.birth_date")
      },
      contact: {
        name: value("contact.name"), position: value("contact.position"),
        office_phone: value("contact.office_phone"), mobile: value("contact.mobile")
      },
      background: value("background"), innovations: values("innovations"), results: values("results"),
      originality_pledge: form.elements.originality_pledge.checked,
      showcase_consent: form.elements.showcase_consent.checked
    };
  }

  // A new case has no id yet: save the draft once (shared by files chosen together) before the first upload.
  var creating = null;
  function ensureCase() {
    if (caseId()) { return Promise.resolve(caseId()); }
    if (!creating) {
      creating = api("POST", "/cases", bodyFromForm()).then(function (created) {
        adoptCase(created.id, created.version);
        return created.id;
      }, function (error) {
        creating = null;
        throw new Error("保存草稿失败，附件无法上传：" + error.message);
      });
    }
    return creating;
  }

  // ---- attachments -----------------------------------------------------------------------------------
  var fileInput = document.getElementById("f-attachments");
  var list = document.getElementById("attachment-list");
  var pending = new Set();

  function contentType(file) {
    var extension = (file.name.split(".").pop() || "").toLowerCase();
    return EXT_TYPES[extension] || file.type || "application/octet-stream";
  }

  function sizeText(size) {
    if (size < 1024) { return size + " 字节"; }
    if (size < 1024 * 1024) { return (size / 1024).toFixed(1) + " KB"; }
    return (size / 1024 / 1024).toFixed(1) + " MB";
  }

  function span(className, text) {
    var el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  // The button's name is its visible word plus hidden words saying what it acts on (not an aria-label,
  // which would also label it as the field it names).
  function button(className, text, what) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = className;
    el.textContent = text;
    el.appendChild(span("visually-hidden", what));
    return el;
  }

  function newItem(file) {
    var item = document.createElement("li");
    item.className = "attachment";
    item.appendChild(span("filename", file.name));
    item.appendChild(span("size", sizeText(file.size)));
    item.appendChild(span("upload-status", ""));
    list.appendChild(item);
    return item;
  }

  function setStatus(item, status, text) {
    item.dataset.status = status;
    item.querySelector(".upload-status").textContent = text;
  }

  function finishItem(item, id, attachmentId, filename) {
    item.dataset.attachmentId = attachmentId;
    setStatus(item, "verified", "已校验");
    var link = document.createElement("a");
    link.className = "download";
    link.href = "/cases/" + encodeURIComponent(id) + "/attachments/" + encodeURIComponent(attachmentId);
    link.textContent = "下载";
    item.appendChild(link);
    item.appendChild(button("delete-attachment", "删除", "附件 " + filename));
  }

  function failItem(item, filename, error) {
    setStatus(item, "failed", "失败：" + error.message);
    item.appendChild(button("dismiss-attachment", "移除", "上传失败的 " + filename));
  }

  function postToStorage(upload, file, item) {
    return postFile(upload, file, function (percent) { setStatus(item, "uploading", "上传中 " + percent + "%"); });
  }

  function upload(file) {
    var item = newItem(file);
    setStatus(item, "uploading", "上传中");
    var id, declared, transferError = null;
    return ensureCase().then(function (caseIdValue) {
      id = caseIdValue;
      return api("POST", "/cases/" + encodeURIComponent(id) + "/attachments",
                 { filename: file.name, content_type: contentType(file), size: file.size });
    }).then(function (answer) {
      declared = answer;
      item.dataset.attachmentId = declared.attachment_id;
      return postToStorage(declared.upload, file, item).catch(function (error) { transferError = error; });
    }).then(function () {
      setStatus(item, "uploading", "校验中");
      return api("POST", "/cases/" + encodeURIComponent(id) + "/attachments/" + encodeURIComponent(declared.attachment_id) + "/confirm")
        .catch(function (error) { throw (transferError && transferError.definite) ? transferError : error; });
    }).then(function () {
      finishItem(item, id, declared.attachment_id, file.name);
    }, function (error) {
      failItem(item, file.name, error);
    });
  }

  fileInput.addEventListener("change", function () {
    Array.prototype.forEach.call(fileInput.files, function (file) {
      var job = upload(file);
      pending.add(job);
      job.then(function () { pending.delete(job); });
    });
    fileInput.value = "";
  });

  list.addEventListener("click", function (event) {
    var dismiss = event.target.closest(".dismiss-attachment");
    if (dismiss) { dismiss.closest("li").remove(); fileInput.focus(); return; }
    var remove = event.target.closest(".delete-attachment");
    if (!remove || !caseId()) { return; }
    var item = remove.closest("li");
    remove.disabled = true;
    api("DELETE", "/cases/" + encodeURIComponent(caseId()) + "/attachments/" + encodeURIComponent(item.dataset.attachmentId))
      .then(function () {
        var name = item.querySelector(".filename").textContent;
        item.remove();
        showMessage("已删除附件 " + name, true);
        fileInput.focus();
      }, function (error) {
        remove.disabled = false;
        showMessage("删除附件失败：" + error.message);
      });
  });

  // ---- 保存草稿 / 提交 wait for uploads in flight; 提交 refuses while an upload has failed ------------------
  function failedNames() {
    return Array.prototype.map.call(list.querySelectorAll("[data-status=failed] .filename"), function (el) { return el.textContent; });
  }

  var sending = false;
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var submitting = submitter && submitter.value === "submit";
    if (sending) { event.preventDefault(); return; }
    if (pending.size) {
      event.preventDefault();
      showMessage("附件正在上传，完成后将自动继续……", true);
      Promise.all(Array.from(pending)).then(function () {
        if (submitting && failedNames().length) {
          showMessage("有附件上传失败（" + failedNames().join("、") + "），请重新选择该文件上传，或点“移除”去掉失败的记录后再提交。");
          return;
        }
        showMessage("", true);
        form.requestSubmit(submitter);
      });
      return;
    }
    if (submitting && failedNames().length) {
      event.preventDefault();
      showMessage("有附件上传失败（" + failedNames().join("、") + "），请重新选择该文件上传，或点“移除”去掉失败的记录后再提交。");
      return;
    }
    sending = true;
  });
  window.addEventListener("pageshow", function () { sending = false; });
  window.addEventListener("beforeunload", function (event) {
    if (pending.size && !sending) { event.preventDefault(); event.returnValue = ""; }
  });
})();
