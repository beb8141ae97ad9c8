// Chat: the room page (a WebSocket) and the home page's activity feed (an EventSource).
// Everything that came from a person is put on the page with textContent, never innerHTML,
// and the pages carry no inline script, so a strict Content-Security-Policy holds.
"use strict";

(function () {
  const MAX_MESSAGES = 200;
  const MAX_ACTIVITY = 50;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function timeOf(iso) {
    const node = element("time");
    const date = new Date(iso);
    node.dateTime = String(iso);
    node.textContent = isNaN(date.getTime())
      ? ""
      : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return node;
  }

  function trim(list, max, fromEnd) {
    while (list.children.length > max) {
      list.removeChild(fromEnd ? list.lastElementChild : list.firstElementChild);
    }
  }

  // -- a room ------------------------------------------------------------------------------

  function setupRoom(section) {
    const joinForm = document.getElementById("join");
    const nameInput = document.getElementById("name");
    const sendForm = document.getElementById("send");
    const textInput = document.getElementById("text");
    const messages = document.getElementById("messages");
    const status = document.getElementById("status");
    const error = document.getElementById("error");
    let socket = null;

    try {
      nameInput.value = localStorage.getItem("chat.name") || "";
    } catch (e) {
      // storage may be disabled: the name is simply not remembered
    }

    function setStatus(text, live) {
      status.textContent = text;
      status.classList.toggle("live", Boolean(live));
    }

    function showError(text) {
      error.textContent = text;
      error.hidden = !text;
    }

    function append(item) {
      const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
      messages.appendChild(item);
      trim(messages, MAX_MESSAGES, false);
      if (atBottom) item.scrollIntoView({ block: "nearest" });
    }

    function show(event) {
      if (event.type === "message") {
        const item = element("li", "message");
        const header = element("div");
        header.append(element("span", "who", event.name), timeOf(event.at));
        item.append(header, element("p", "text", event.text));
        append(item);
      } else if (event.type === "joined" || event.type === "left") {
        const item = element("li", "notice");
        item.append(`${event.name} ${event.type} `, timeOf(event.at));
        append(item);
      } else if (event.type === "error") {
        const first = (event.errors && event.errors[0]) || {};
        showError(`Not sent: ${first.msg || "invalid message"}`);
      }
    }

    function join(name) {
      const url = new URL(section.dataset.socket, window.location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      url.searchParams.set("name", name);
      let opened = false;
      setStatus("Joining…");
      joinForm.querySelector("button").disabled = true;
      socket = new WebSocket(url);
      socket.addEventListener("open", () => {
        opened = true;
        setStatus(`In #${section.dataset.room} as ${name}`, true);
        joinForm.hidden = true;
        sendForm.hidden = false;
        textInput.focus();
      });
      socket.addEventListener("message", (message) => {
        let event;
        try {
          event = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        show(event);
      });
      socket.addEventListener("close", (closed) => {
        socket = null;
        setStatus(
          opened
            ? `Disconnected (${closed.code}). Join again to continue.`
            : "Could not join: check your name (1 to 30 characters)."
        );
        joinForm.hidden = false;
        joinForm.querySelector("button").disabled = false;
        sendForm.hidden = true;
      });
    }

    joinForm.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const name = nameInput.value.trim();
      if (!name || socket) return;
      try {
        localStorage.setItem("chat.name", name);
      } catch (e) {
        // not remembered, no harm done
      }
      join(name);
    });

    sendForm.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const text = textInput.value;
      if (!text.trim() || !socket || socket.readyState !== WebSocket.OPEN) return;
      showError("");
      socket.send(JSON.stringify({ text: text }));
      textInput.value = "";
    });
  }

  // -- the activity feed -------------------------------------------------------------------

  function setupActivity(list) {
    const status = document.getElementById("feed-status");
    const empty = document.getElementById("activity-empty");
    const roomUrl = list.dataset.roomUrl;
    const source = new EventSource(list.dataset.source);

    function setStatus(text, live) {
      status.textContent = text;
      status.classList.toggle("live", Boolean(live));
    }

    function show(kind, message) {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      const item = element("li", `activity-${kind}`);
      const link = element("a", "room", `#${event.room}`);
      link.href = roomUrl.replace("__room__", encodeURIComponent(String(event.room)));
      item.append(timeOf(event.at), " ", element("span", "who", event.name));
      if (kind === "message") {
        item.append(" in ", link, ": ", element("span", "text", event.text));
      } else {
        item.append(` ${kind} `, link);
      }
      list.insertBefore(item, list.firstChild);
      trim(list, MAX_ACTIVITY, true);
      if (empty) empty.hidden = true;
    }

    source.addEventListener("ready", () => setStatus("live", true));
    source.addEventListener("error", () => setStatus("reconnecting…"));
    for (const kind of ["joined", "left", "message"]) {
      source.addEventListener(kind, (message) => show(kind, message));
    }
  }

  const chat = document.getElementById("chat");
  if (chat) setupRoom(chat);
  const activity = document.getElementById("activity");
  if (activity) setupActivity(activity);
})();
