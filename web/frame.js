/* Boot script of the chat frame page: loads the widget WebAssembly named by
   this script's data-wasm attribute and runs it with wasm_exec.js (loaded
   before this script). On failure it shows a plain error text in the root. */
(function () {
  "use strict";
  // Keep messages that arrive before the widget listens (the loader's first
  // "open" is posted when the frame loads); the widget replays and clears them.
  var early = window.siegelEarly = [];
  window.addEventListener("message", function (e) {
    if (window.siegelEarly === early) early.push(e);
  });
  var ROOT = "siegel-root",
    DE = "Der Chat konnte nicht geladen werden.",
    EN = "The chat could not be loaded.";

  var s = document.currentScript,
    url = s && s.dataset.wasm,
    shown = false;

  function fail(err) {
    if (window.console) console.error("siegel:", err);
    var r = document.getElementById(ROOT);
    if (!r || shown) return;
    shown = true;
    r.textContent = /^en/i.test(navigator.language || "") ? EN : DE;
    r.setAttribute("role", "alert");
  }

  function load(go) {
    return fetch(url).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status + " for " + url);
      var ct = res.headers.get("Content-Type") || "";
      if (WebAssembly.instantiateStreaming && /^application\/wasm\b/i.test(ct)) {
        return WebAssembly.instantiateStreaming(res, go.importObject);
      }
      return res.arrayBuffer().then(function (buf) {
        return WebAssembly.instantiate(buf, go.importObject);
      });
    });
  }

  try {
    if (!url) throw new Error("missing data-wasm");
    if (typeof Go !== "function") throw new Error("wasm_exec.js not loaded");
    var go = new Go(),
      exit = go.exit;
    go.exit = function (code) {
      exit.call(go, code);
      if (code !== 0) fail(new Error("exit code " + code));
    };
    load(go).then(function (r) {
      return go.run(r.instance);
    }).catch(fail);
  } catch (e) {
    fail(e);
  }
})();
