// Firewarden console: sends the pages' forms to the JSON API with the session's CSRF token,
// uploads files with progress, and counts the SLA clocks down. No other script runs here.
"use strict";

(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : "";

  function say(form, text, bad) {
    const status = form.querySelector(".status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", !!bad);
  }

  function typed(el, raw) {
    switch (el.dataset.type) {
      case "int": return parseInt(raw, 10);
      case "bool": return raw === "true";
      case "list": return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      default: return raw;
    }
  }

  // A form's fields as JSON (dotted names nest: sla.acknowledge), and its URL with the
  // fields marked data-path put into it.
  function collect(form, submitter) {
    let url = form.dataset.api;
    const body = {};
    const put = (name, value) => {
      const parts = name.split(".");
      let at = body;
      for (let i = 0; i < parts.length - 1; i++) {
        at = at[parts[i]] = at[parts[i]] || {};
      }
      at[parts[parts.length - 1]] = value;
    };
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "file") continue;
      if (el.type === "checkbox" && !el.checked) continue;
      // A password is sent as typed: spaces at its ends are part of it.
      const raw = el.type === "password" ? el.value : el.value.trim();
      if (el.dataset.path) {
        url = url.replace("{" + el.dataset.path + "}", encodeURIComponent(raw));
        continue;
      }
      if (raw === "") continue;
      put(el.name, typed(el, raw));
    }
    if (submitter && submitter.name) put(submitter.name, typed(submitter, submitter.value));
    return { url, body };
  }

  async function send(form, submitter) {
    const { url, body } = collect(form, submitter);
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    say(form, "Working…", false);
    try {
      const res = await fetch(url, {
        method: form.dataset.method || "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      let answer = null;
      try { answer = await res.json(); } catch (_) { answer = null; }
      if (!res.ok) {
        let text = (answer && answer.error) || ("refused (" + res.status + ")");
        if (answer && Array.isArray(answer.checklist)) {
          text += ": " + answer.checklist.filter((c) => !c.met).map((c) => c.id).join(", ");
        }
        say(form, text, true);
        return;
      }
      if (form.classList.contains("show-answer")) {
        say(form, "Done: " + JSON.stringify(answer), false);
        return;
      }
      const next = form.dataset.next;
      if (next && answer && answer.id) {
        window.location.assign(next.replace("{id}", encodeURIComponent(answer.id)));
      } else {
        window.location.reload();
      }
    } catch (e) {
      say(form, "The server could not be reached: " + e, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function upload(form) {
    const file = form.querySelector('input[type="file"]').files[0];
    const asset = form.querySelector('input[name="asset"]').value.trim();
    if (!file || !asset) return;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api + "?asset=" + encodeURIComponent(asset));
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) say(form, "Uploading… " + Math.floor((100 * ev.loaded) / ev.total) + " %", false);
    });
    xhr.addEventListener("load", () => {
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (_) { answer = null; }
      if (xhr.status >= 200 && xhr.status < 300) {
        say(form, "Imported.", false);
        window.location.reload();
      } else {
        say(form, (answer && answer.error) || ("refused (" + xhr.status + ")"), true);
      }
    });
    xhr.addEventListener("error", () => say(form, "The upload did not reach the server.", true));
    say(form, "Uploading…", false);
    xhr.send(file);
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form.classList.contains("api")) {
      ev.preventDefault();
      send(form, ev.submitter);
    } else if (form.classList.contains("upload")) {
      ev.preventDefault();
      upload(form);
    }
  });

  // SLA clocks: the page says when each is due; the time left is counted here.
  function human(s) {
    s = Math.abs(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + " d " + h + " h";
    if (h > 0) return h + " h " + m + " min";
    if (m > 0) return m + " min";
    return s + " s";
  }
  function tick() {
    const now = Math.floor(Date.now() / 1000);
    document.querySelectorAll(".clock[data-due]").forEach((el) => {
      const left = el.querySelector(".left");
      if (!left || left.textContent === "") return;
      const due = parseInt(el.dataset.due, 10) - now;
      left.textContent = due >= 0 ? " in " + human(due) : " " + human(due) + " ago";
      if (due < 0 && !el.classList.contains("breach")) {
        el.classList.remove("ok", "warn");
        el.classList.add("breach");
        el.firstChild.textContent = el.dataset.label + " BREACHED";
      }
    });
  }
  setInterval(tick, 1000);
})();
