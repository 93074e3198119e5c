// plaint dashboard: listen to /ui/events and swap in the part of the page that changed.
// The page works without this script (forms post, links navigate); it only keeps it live.
(() => {
  "use strict";
  const first = document.querySelector("[data-live]");
  if (!first || !window.EventSource) return;
  const kind = first.dataset.live;
  const url = kind === "queue"
    ? "/ui/queue" + location.search
    : "/ui/complaints/" + encodeURIComponent(first.dataset.id) + "/live";
  let typing = false;
  document.addEventListener("input", (e) => {
    if (e.target.closest && e.target.closest("form.command")) typing = true;
  });
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(url, { credentials: "same-origin" });
      if (!res.ok) return;
      const tpl = document.createElement("template");
      tpl.innerHTML = await res.text();
      const fresh = tpl.content.querySelector("[data-live]");
      const current = document.querySelector("[data-live]");
      if (!fresh || !current) return;
      // Keep a form the person is filling in.
      const mine = current.querySelector("#commands");
      const theirs = fresh.querySelector("#commands");
      if (typing && mine && theirs) theirs.replaceWith(mine);
      const focused = document.activeElement && document.activeElement.id;
      current.replaceWith(fresh);
      if (focused) {
        const again = document.getElementById(focused);
        if (again) again.focus();
      }
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource("/ui/events");
  events.addEventListener("open", () => { document.body.dataset.stream = "open"; });
  events.addEventListener("error", () => { document.body.dataset.stream = "retrying"; });
  events.addEventListener("changed", (e) => {
    const ids = e.data.split(" ");
    const current = document.querySelector("[data-live]");
    if (kind === "queue" || ids.includes("*") || (current && ids.includes(current.dataset.id))) refresh();
  });
})();
