/* Siegel chat loader: draws the launcher only (no request, cookie or storage
   before the click); the chat runs in a cross-origin iframe. */
(function (d, w) {
  var s = d.currentScript, a = s && s.dataset;
  if (!s) return;
  var O = new URL(s.src).origin,
    en = /^en/i.test(navigator.language),
    L = en ? "Open chat" : "Chat \xf6ffnen",
    q = w.matchMedia("(max-width:480px)"),
    on = 0, ld = 0, f, b, c,
    P = "position:fixed;border:0;margin:0;padding:0;";

  function el(t, p, x) {
    var e = x ? d.createElementNS("http://www.w3.org/2000/svg", t) : d.createElement(t), k;
    for (k in p) e.setAttribute(k, p[k]);
    return e;
  }
  function place() {
    var m = q.matches;
    b.style.display = on && m ? "none" : "flex";
    b.setAttribute("aria-expanded", !!on);
    if (f) f.style.cssText = P + "z-index:2147483647;background:#fff;" + (m ? "inset:0;width:100vw;height:100vh;height:100dvh;" :
      "right:20px;bottom:88px;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);border-radius:12px;box-shadow:0 4px 24px #0006;") +
      (on ? "" : "display:none");
  }
  function post() {
    ld && f.contentWindow.postMessage({ siegel: 1, type: on ? "open" : "close" }, O);
  }
  function hide() {
    on = 0;
    place();
    post();
    b.focus();
  }
  function init() {
    b = el("button", { type: "button", "aria-label": L, "data-testid": "siegel-launcher" });
    b.style.cssText = P + "z-index:2147483646;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;background:#1d4ed8;color:#fff;cursor:pointer;align-items:center;justify-content:center;box-shadow:0 2px 12px #0006;outline-offset:3px";
    var g = el("svg", { viewBox: "0 0 24 24", width: 28, height: 28, "aria-hidden": "true" }, 1);
    g.appendChild(el("path", { fill: "currentColor", d: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" }, 1));
    c = el("span", { "aria-hidden": "true", "data-testid": "siegel-badge" });
    c.style.cssText = "position:absolute;top:-4px;right:-4px;min-width:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#b91c1c;font:700 12px/20px sans-serif;text-align:center;display:none";
    b.append(g, c);
    b.onfocus = function () { b.style.outline = "3px solid #1d4ed8"; };
    b.onblur = function () { b.style.outline = "none"; };
    b.onclick = function () {
      if (!f) {
        f = el("iframe", { title: "Chat", "data-testid": "siegel-frame", referrerpolicy: "no-referrer",
          src: O + "/frame?site=" + encodeURIComponent(a.site || "") + "&owner=" + encodeURIComponent(a.ownerKey || "") });
        f.onload = function () { ld = 1; post(); };
        b.after(f);
      }
      on = !on;
      place();
      post();
    };
    place();
    d.body.append(b);
    q.addEventListener("change", place);
    w.addEventListener("message", function (e) {
      var m = e.data, n;
      if (e.origin != O || !f || e.source != f.contentWindow || !m || m.siegel !== 1) return;
      if (m.type == "close") on && hide();
      if (m.type == "unread") {
        n = Math.min(Math.max(m.count | 0, 0), 99);
        c.textContent = n;
        c.style.display = n ? "block" : "none";
        b.setAttribute("aria-label", n ? L + ", " + n + (en ? " new message" : " neue Nachricht") + (n > 1 ? (en ? "s" : "en") : "") : L);
      }
    });
    d.addEventListener("keydown", function (e) {
      on && e.key == "Escape" && hide();
    });
  }
  d.body ? init() : d.addEventListener("DOMContentLoaded", init);
})(document, window);
