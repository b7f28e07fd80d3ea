// The control page: an OSCQuery client. It reads the namespace (type, range, value, description of
// each parameter) and the layout, builds the controls, LISTENs to them over the WebSocket and sends
// OSC packets back on the same socket. Text reaches the page only through .value and .textContent,
// never as HTML, so a prompt cannot inject markup or script.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const withToken = (path, extra = "") => {
  const q = [token ? "token=" + encodeURIComponent(token) : "", extra].filter(Boolean).join("&");
  return q ? `${path}?${q}` : path;
};
const controls = new Map();   // OSC address -> {node, show(value)}
let socket = null;

// -- OSC 1.0 encoding (the subset we use: i, f, s, T, F) ---------------------------------------------
function oscString(text) {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array((bytes.length + 4) & ~3);   // NUL-terminated, padded to 4 bytes
  out.set(bytes);
  return out;
}

function encode(address, tag, value) {
  let data;
  if (tag === "i" || tag === "f") {
    data = new Uint8Array(4);
    const view = new DataView(data.buffer);
    if (tag === "i") view.setInt32(0, value); else view.setFloat32(0, value);
  } else if (tag === "s") {
    data = oscString(value);
  } else {
    data = new Uint8Array(0);                               // T and F carry no bytes
  }
  const parts = [oscString(address), oscString("," + tag), data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out.buffer;
}

function decode(buffer) {
  const view = new DataView(buffer), bytes = new Uint8Array(buffer);
  let at = 0;
  const str = () => {
    let end = at;
    while (end < bytes.length && bytes[end] !== 0) end++;
    const text = new TextDecoder().decode(bytes.subarray(at, end));
    at = (end + 4) & ~3;
    return text;
  };
  const address = str(), tags = str().slice(1), args = [];
  for (const t of tags) {
    if (t === "i") { args.push(view.getInt32(at)); at += 4; }
    else if (t === "f") { args.push(view.getFloat32(at)); at += 4; }
    else if (t === "d") { args.push(view.getFloat64(at)); at += 8; }
    else if (t === "h") { args.push(Number(view.getBigInt64(at))); at += 8; }
    else if (t === "s") { args.push(str()); }
    else if (t === "T") { args.push(true); }
    else if (t === "F") { args.push(false); }
  }
  return { address, args };
}

function send(address, tag, value) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(encode(address, tag, value));
}

// -- controls, built from the layout and the namespace ------------------------------------------------
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function findNode(root, address) {
  let node = root;
  for (const part of address.split("/").filter(Boolean)) {
    node = node && node.CONTENTS && node.CONTENTS[part];
  }
  return node;
}

const label = (name) => name.replace(/\./g, " ");

function slots(items, root) {
  const box = el("div");
  const select = findNode(root, "/vj/prompt/select");
  const buttons = [];
  items.forEach((item, i) => {
    const node = findNode(root, item.address);
    if (!node) return;
    const n = i + 1;
    const button = el("button", { type: "button", textContent: String(n), title: `make slot ${n} the active prompt` });
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => send("/vj/prompt/select", "i", n));
    buttons.push(button);
    const input = el("input", { type: "text", placeholder: `slot ${n}`, maxLength: node.MAX_LENGTH || 300,
                                autocomplete: "off", enterKeyHint: "send" });
    input.setAttribute("aria-label", `prompt slot ${n}`);
    input.dataset.address = item.address;
    input.addEventListener("change", () => send(item.address, "s", input.value));
    const show = (v) => { if (document.activeElement !== input) input.value = v; };
    show(node.VALUE[0]);
    controls.set(item.address, { node, show });
    box.append(el("div", { className: "slot" }, button, input));
  });
  if (select) {
    const show = (v) => buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i + 1 === v)));
    show(select.VALUE[0]);
    controls.set("/vj/prompt/select", { node: select, show });
  }
  return box;
}

function buttons(items, root) {
  const box = el("div", { className: "buttons" });
  for (const item of items) {
    const node = findNode(root, item.address);
    if (!node) continue;
    const button = el("button", { type: "button", textContent: label(item.name), title: node.DESCRIPTION || "" });
    button.dataset.address = item.address;
    if (node.ACCESS === 2) {                                   // an action: each press fires it
      button.addEventListener("click", () => send(item.address, "T"));
    } else {                                                   // on/off: each press flips it
      let on = Boolean(node.VALUE[0]);
      const show = (v) => { on = Boolean(v); button.setAttribute("aria-pressed", String(on)); };
      show(on);
      button.addEventListener("click", () => send(item.address, on ? "F" : "T"));
      controls.set(item.address, { node, show });
    }
    box.append(button);
  }
  return box;
}

function faders(items, root) {
  const box = el("div");
  for (const item of items) {
    const node = findNode(root, item.address);
    if (!node || !node.RANGE) continue;
    const { MIN: min, MAX: max } = node.RANGE[0];
    const whole = node.TYPE === "i";
    const input = el("input", { type: "range", min, max, step: whole ? 1 : (max - min) / 1000 });
    input.dataset.address = item.address;
    input.setAttribute("aria-label", label(item.name));
    const out = el("output");
    const text = (v) => (whole ? String(v) : Number(v).toFixed(max - min > 10 ? 1 : 2));
    let dragging = false, queued = null;
    const show = (v) => { if (!dragging) input.value = v; out.textContent = text(v); };
    input.addEventListener("pointerdown", () => { dragging = true; });
    for (const end of ["pointerup", "pointercancel", "change"]) input.addEventListener(end, () => { dragging = false; });
    input.addEventListener("input", () => {                   // at most one message per 16 ms, the latest
      out.textContent = text(input.value);
      if (queued === null) setTimeout(() => {
        send(item.address, whole ? "i" : "f", Number(queued));
        queued = null;
      }, 16);
      queued = input.value;
    });
    show(node.VALUE[0]);
    controls.set(item.address, { node, show });
    box.append(el("div", { className: "fader", title: node.DESCRIPTION || "" },
                  el("label", { textContent: label(item.name) }), out, input));
  }
  return box;
}

const BUILDERS = { slots, buttons, faders };

async function load() {
  const [layout, root] = await Promise.all([
    fetch(withToken("/layout.json")).then(need),
    fetch(withToken("/"), { headers: { Accept: "application/json" } }).then(need),
  ]);
  const main = document.getElementById("controls");
  main.replaceChildren(...layout.sections.filter((s) => s.items.length).map((s) =>
    el("section", {}, el("h2", { textContent: s.title }), BUILDERS[s.kind](s.items, root))));
  if (layout.preview_ms) preview(layout.preview_ms);
  else document.getElementById("preview-box").hidden = true;
  connect();
}

async function need(response) {
  if (!response.ok) throw new Error((await response.text()).trim() || `HTTP ${response.status}`);
  return response.json();
}

// -- the live connection: values in as they change, reconnect after sleep or a restart ----------------
function connect() {
  const status = document.getElementById("status");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${withToken("/")}`);
  socket.binaryType = "arraybuffer";
  socket.onopen = async () => {
    status.dataset.state = "open";
    status.textContent = "live";
    for (const address of controls.keys()) socket.send(JSON.stringify({ COMMAND: "LISTEN", DATA: address }));
    const root = await fetch(withToken("/"), { headers: { Accept: "application/json" } }).then(need);
    for (const [address, c] of controls) {                   // what changed while we were away
      const node = findNode(root, address);
      if (node && node.VALUE) c.show(node.VALUE[0]);
    }
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") return;             // PATH_CHANGED and the like: not used
    const { address, args } = decode(event.data);
    const c = controls.get(address);
    if (c && args.length) c.show(args[0]);
  };
  socket.onclose = () => {
    status.dataset.state = "closed";
    status.textContent = "reconnecting";
    setTimeout(connect, 1000);
  };
}

function preview(ms) {
  const img = document.getElementById("preview");
  const next = () => setTimeout(() => { img.src = withToken("/preview.jpg", "t=" + Date.now()); }, ms);
  img.onload = next;
  img.onerror = next;                                        // no frame yet (204): try again
  img.src = withToken("/preview.jpg", "t=" + Date.now());
}

load().catch((e) => {
  const error = document.getElementById("error");
  error.textContent = `The page could not load its controls: ${e.message}`;
  error.hidden = false;
});
