// The live feed of the home page: new posts arrive as server-sent events (GET /feed) and are
// put on top of the list. Text from people goes in with textContent, never innerHTML, and the
// page has no inline script, so the site's strict Content-Security-Policy holds.
"use strict";

(function () {
  const list = document.getElementById("feed");
  const status = document.getElementById("feed-status");
  if (!list || !window.EventSource) return;
  const MAX_POSTS = 50;

  function setStatus(text, live) {
    status.textContent = text;
    status.classList.toggle("live", live);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  function show(post) {
    if (list.querySelector(`[data-id="${Number(post.id)}"]`)) return; // already on the page
    const item = element("li", "post fresh", "");
    item.dataset.id = String(post.id);
    const when = element("time", "", "");
    const date = new Date(post.created_at);
    when.dateTime = String(post.created_at);
    when.textContent = isNaN(date.getTime()) ? "" : date.toLocaleString();
    item.append(element("span", "author", post.author), " ", when, element("p", "text", post.text));
    list.prepend(item);
    while (list.children.length > MAX_POSTS) list.removeChild(list.lastElementChild);
    const empty = document.getElementById("feed-empty");
    if (empty) empty.remove();
  }

  // EventSource reconnects by itself (after the `retry` the server suggests).
  const source = new EventSource(list.dataset.source);
  source.addEventListener("ready", () => setStatus("live", true));
  source.addEventListener("post", (event) => show(JSON.parse(event.data)));
  source.addEventListener("error", () => setStatus("reconnecting…", false));
})();
