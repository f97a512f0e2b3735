// The lab page: draws the virtual board's parts from the server's state and sends the user's actions back.
const $ = (id) => document.getElementById(id);
// The server writes this run's token into the page; every control sends it back.
const token = document.querySelector('meta[name="esplab-token"]').content;
const post = async (path, body) => {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-esplab-token": token },
    body: JSON.stringify(body),
  });
  if (response.status === 403) {
    $("status").textContent = (await response.clone().json()).error;
    $("status").classList.remove("live");
  }
  return response;
};

const readings = [];
window.addEventListener("resize", () => drawChart());
const MAX_LOG = 300;

function appendLog(list, text, className) {
  const item = document.createElement("li");
  item.textContent = text;
  if (className) item.className = className;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(item);
  while (list.children.length > MAX_LOG) list.firstChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function time(ms) {
  return (ms / 1000).toFixed(3).padStart(9, " ");
}

function renderParts(parts) {
  for (const [id, part] of Object.entries(parts)) {
    switch (part.type) {
      case "lcd1602-i2c": {
        const lcd = $("lcd");
        const codes = part.characters ?? [...(part.lines ?? ["", ""]).join("")].map((c) => c.charCodeAt(0));
        lcd.characters = Uint8Array.from(codes);
        lcd.backlight = part.backlight !== false;
        if (part.cursor) {
          lcd.cursor = !!part.cursor.visible && part.cursor.onScreen !== false;
          lcd.blink = !!part.cursor.blink && part.cursor.onScreen !== false;
          if (part.cursor.column !== undefined) lcd.cursorX = part.cursor.column;
          if (part.cursor.row !== undefined) lcd.cursorY = part.cursor.row;
        }
        if (part.address !== undefined) $("lcd-address").textContent = `0x${part.address.toString(16).toUpperCase()}`;
        break;
      }
      case "servo-sg90": {
        if (typeof part.angle === "number") {
          $("servo").angle = part.angle;
          $("servo-angle").textContent = `${part.angle.toFixed(0)}°${part.stalled ? " (stalled!)" : part.moving ? " (moving)" : ""}`;
        }
        break;
      }
      case "ir-obstacle":
        $("ir-led").classList.toggle("on", !!(part.led ?? part.obstacle));
        break;
      case "ir-gp2y0a21":
        if (typeof part.volts === "number") $("sharp-volts").textContent = `${part.volts.toFixed(2)} V`;
        break;
    }
    void id;
  }
}

// When each path of the database last changed (on this page), to show the newest and changed entries first.
const changedAt = new Map();
let previousTree;
let changes = 0;

function noteChanges(before, after, path) {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  changedAt.set(path, ++changes);
  if (after && typeof after === "object") {
    for (const key of Object.keys(after)) noteChanges(before?.[key], after[key], `${path}/${key}`);
  }
}

/** The tree with each object's children ordered: most recently changed first, then by key, newest (largest) first. */
function newestFirst(value, path) {
  if (!value || typeof value !== "object") return value;
  const keys = Object.keys(value).sort((a, b) => (changedAt.get(`${path}/${b}`) ?? 0) - (changedAt.get(`${path}/${a}`) ?? 0) || (a < b ? 1 : a > b ? -1 : 0));
  // Keys that look like array indexes would be put back in ascending order by JSON.stringify: keep them as text.
  return Object.fromEntries(keys.map((key) => [/^\d+$/.test(key) ? `${key} ` : key, newestFirst(value[key], `${path}/${key}`)]));
}

function renderDb(tree) {
  if (previousTree !== undefined) noteChanges(previousTree, tree, "");
  previousTree = tree;
  $("db").textContent = tree === null || tree === undefined ? "(empty)" : JSON.stringify(newestFirst(tree, ""), null, 2);
}

const SERIES = [
  { key: "cm", label: "Sharp distance (cm)", color: "#0a7d5a" },
  { key: "obstacle", label: "FC-51 obstacle (1 = yes)", color: "#d97706" },
];

function drawChart() {
  const canvas = $("chart");
  const scale = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 560;
  const height = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(width * scale)) canvas.width = Math.round(width * scale);
  if (canvas.height !== Math.round(height * scale)) canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d");
  context.setTransform(scale, 0, 0, scale, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = "11px system-ui, sans-serif";
  const ink = getComputedStyle(document.body).color;
  if (readings.length < 2) {
    context.fillStyle = ink;
    context.fillText("readings appear here as the firmware sends them", 10, 20);
    return;
  }
  const left = 50, right = 16, top = 22, bottom = 20;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const x = (index) => left + (index / (readings.length - 1)) * plotWidth;
  const distances = readings.map((r) => r.cm).filter((v) => typeof v === "number");
  const min = distances.length ? Math.floor(Math.min(...distances)) : 0;
  const max = distances.length ? Math.ceil(Math.max(...distances)) : 100;
  const span = max - min || 1;
  const yCm = (cm) => top + plotHeight - ((cm - min) / span) * plotHeight;
  const yFlag = (flag) => top + plotHeight - (flag ? 1 : 0) * plotHeight;

  context.strokeStyle = "#8886";
  context.lineWidth = 1;
  context.strokeRect(left, top, plotWidth, plotHeight);
  context.fillStyle = ink;
  context.textAlign = "right";
  if (distances.length) {
    context.fillText(`${max} cm`, left - 4, top + 8);
    context.fillText(`${min} cm`, left - 4, top + plotHeight);
  }
  context.textAlign = "left";
  context.fillText("1", width - right + 4, top + 8);
  context.fillText("0", width - right + 4, top + plotHeight);
  context.textAlign = "center";
  context.fillText(`last ${readings.length} readings (oldest left, newest right)`, left + plotWidth / 2, height - 5);

  let legendX = left;
  for (const series of SERIES) {
    const points = readings.map((r, index) => [index, r[series.key]]).filter(([, v]) => v !== undefined && v !== null);
    context.fillStyle = series.color;
    context.fillRect(legendX, 6, 10, 10);
    context.fillStyle = ink;
    context.textAlign = "left";
    context.fillText(series.label, legendX + 14, 15);
    legendX += context.measureText(series.label).width + 34;
    if (points.length === 0) continue;
    context.strokeStyle = series.color;
    context.lineWidth = 2;
    context.beginPath();
    points.forEach(([index, value], n) => {
      const y = series.key === "cm" ? yCm(value) : yFlag(value);
      if (n === 0) context.moveTo(x(index), y);
      else context.lineTo(x(index), y);
    });
    context.stroke();
  }
}

function setReadings(feed) {
  readings.length = 0;
  for (const point of feed.points ?? []) readings.push(point);
  $("readings-source").textContent = feed.source === "mqtt" ? "published over MQTT (sensor/…)" : "stored in the database (/readings/…)";
  drawChart();
}

function addReading(message) {
  if (message.points) return setReadings(message);
  readings.push(message.point);
  if (readings.length > 200) readings.shift();
  drawChart();
}

// Which panels each app opens at first: what its assignment is about.
const PANELS = {
  assignment2: ["readings", "database", "serial", "diagnostics"],
  assignment4: ["readings", "database", "serial", "diagnostics"],
  assignment3: ["database", "serial", "diagnostics"],
  assignment5: ["database", "serial", "diagnostics"],
  telemetry: ["readings", "mqtt", "serial", "diagnostics"],
  "board-check": ["serial", "diagnostics"],
};

function openPanelsFor(app) {
  const open = PANELS[app];
  if (!open) return;
  for (const panel of document.querySelectorAll("details[data-panel]")) panel.open = open.includes(panel.dataset.panel);
}

const FIRMWARE_TEXT = { building: "building…", resetting: "resetting…", running: "running", "not running": "not running" };

function renderFirmware(status) {
  const pill = $("firmware");
  pill.textContent = `firmware: ${FIRMWARE_TEXT[status.state] ?? status.state}`;
  pill.className = `pill ${status.state.replace(" ", "-")}`;
  // A problem stays shown while the next build runs, until the firmware runs again.
  if (status.state === "running") $("problem").hidden = true;
  if (!status.problem) return;
  const build = status.problem.kind === "build";
  $("problem-title").textContent = build ? "The firmware does not build" : "The firmware did not start";
  // The hint says what the firmware uses instead (console → platform.log, …); more: the build's other errors.
  const more = status.problem.more?.length ? ` (and ${status.problem.more.length} more: ${status.problem.more[0]}${status.problem.more.length > 1 ? ", …" : ""})` : "";
  $("problem-message").textContent = [status.problem.message, status.problem.hint].filter(Boolean).join(" — ") + more;
  $("problem-frame").textContent = status.problem.frame ?? "";
  $("problem-frame").hidden = !status.problem.frame;
  $("problem-next").textContent = build ? "Fix it and save: the lab rebuilds and resets the board." : "Fix it and save, or fix the setting and press Reset.";
  $("problem").hidden = false;
}

async function start() {
  const state = await (await fetch("/api/state")).json();
  $("engine").textContent = `${state.app ?? ""} · engine: ${{ xs: "Moddable XS", node: "Node", moddable: "Moddable's runtime" }[state.engine] ?? state.engine}`;
  openPanelsFor(state.app);
  $("ir-kind").value = state.irKind;
  renderFirmware(state.firmware);
  renderParts(state.parts);
  for (const line of state.serial) appendLog($("serial"), `${time(line.atMs)}  ${line.text}`);
  for (const entry of state.diagnostics) appendLog($("diagnostics"), `${entry.part}: ${entry.message}`, entry.severity);
  if (state.feeds.database) renderDb(state.feeds.database.tree);
  for (const message of state.feeds.mqtt?.messages ?? []) appendLog($("mqtt"), `${message.topic}  ${message.payload}`);
  if (state.feeds.readings) setReadings(state.feeds.readings);
  drawChart();

  const events = new EventSource("/api/events");
  events.onopen = () => {
    $("status").textContent = "live";
    $("status").classList.add("live");
  };
  events.onerror = () => {
    $("status").textContent = "disconnected — retrying";
    $("status").classList.remove("live");
  };
  events.addEventListener("parts", (event) => renderParts(JSON.parse(event.data)));
  events.addEventListener("serial", (event) => {
    const line = JSON.parse(event.data);
    appendLog($("serial"), `${time(line.atMs)}  ${line.text}`);
  });
  events.addEventListener("diagnostic", (event) => {
    const entry = JSON.parse(event.data);
    appendLog($("diagnostics"), `${entry.part}: ${entry.message}`, entry.severity);
  });
  events.addEventListener("database", (event) => renderDb(JSON.parse(event.data).tree));
  events.addEventListener("mqtt", (event) => {
    const message = JSON.parse(event.data);
    appendLog($("mqtt"), `${message.topic}  ${message.payload}`);
  });
  events.addEventListener("readings", (event) => addReading(JSON.parse(event.data)));
  events.addEventListener("firmware", (event) => renderFirmware(JSON.parse(event.data)));
}

// Presses and releases go one after another: two requests at once may arrive in either order, and a release that
// overtakes its press would leave the key held down. (The board gives a short click its minimum hold.)
let keyQueue = Promise.resolve();
const sendKey = (key, action) => {
  keyQueue = keyQueue.then(() => post("/api/keypad", { key, action })).catch(() => undefined);
};
const keypad = $("keypad");
keypad.addEventListener("button-press", (event) => sendKey(event.detail.key, "press"));
keypad.addEventListener("button-release", (event) => sendKey(event.detail.key, "release"));
// Typing anywhere on the page (outside a text field) presses the keypad's keys, with no click on the keypad first.
const KEYS = new Set([..."0123456789ABCD*#"]);
const held = new Set();
function keyOf(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return undefined;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return undefined;
  if (event.composedPath().includes(keypad)) return undefined; // the drawn keypad handles its own keys when focused
  const key = event.key.length === 1 ? event.key.toUpperCase() : undefined;
  return KEYS.has(key) ? key : undefined;
}
document.addEventListener("keydown", (event) => {
  const key = keyOf(event);
  if (!key) return;
  event.preventDefault();
  if (held.has(key)) return; // auto-repeat
  held.add(key);
  sendKey(key, "press");
});
document.addEventListener("keyup", (event) => {
  const key = event.key.length === 1 ? event.key.toUpperCase() : undefined;
  if (!held.delete(key)) return;
  sendKey(key, "release");
});
window.addEventListener("blur", () => {
  for (const key of held) sendKey(key, "release");
  held.clear();
});

$("distance").addEventListener("input", (event) => {
  const distanceCm = Number(event.target.value);
  $("distance-value").textContent = `${distanceCm} cm`;
  post("/api/ir", { distanceCm });
});
$("ir-kind").addEventListener("change", (event) => post("/api/ir-kind", { kind: event.target.value }));
$("obstacle").addEventListener("change", (event) => post("/api/ir", { obstacle: event.target.checked }));
$("mqtt-send").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await post("/api/mqtt", { topic: $("mqtt-topic").value.trim(), payload: $("mqtt-payload").value });
  if (!response.ok) appendLog($("mqtt"), `not sent: ${(await response.json()).error}`, "error");
});
$("reset").addEventListener("click", () => post("/api/reset", {}));
$("db-clear").addEventListener("click", async () => {
  if (!confirm("Delete everything in the lab's database?")) return;
  changedAt.clear();
  await post("/api/database/clear", {});
});

start().catch((error) => {
  $("status").textContent = `cannot reach the lab: ${error.message}`;
});
