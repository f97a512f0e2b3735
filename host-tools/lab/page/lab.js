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

function renderDb(tree) {
  $("db").textContent = tree === null || tree === undefined ? "(empty)" : JSON.stringify(tree, null, 2);
}

function drawChart() {
  const canvas = $("chart");
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (readings.length < 2) {
    context.fillStyle = "#888";
    context.fillText("readings appear here as the firmware sends them", 10, 20);
    return;
  }
  const values = readings.map((r) => r.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  context.strokeStyle = "#0a7d5a";
  context.lineWidth = 2;
  context.beginPath();
  readings.forEach((reading, index) => {
    const x = (index / (readings.length - 1)) * (width - 40) + 30;
    const y = height - 15 - ((reading.value - min) / span) * (height - 30);
    if (index === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
  context.fillStyle = "#888";
  context.fillText(String(max), 2, 12);
  context.fillText(String(min), 2, height - 4);
}

function addReading(reading) {
  if (typeof reading?.value !== "number") return;
  readings.push(reading);
  if (readings.length > 200) readings.shift();
  drawChart();
}

async function start() {
  const state = await (await fetch("/api/state")).json();
  $("engine").textContent = `engine: ${state.engine === "xs" ? "Moddable XS" : "Node"}`;
  renderParts(state.parts);
  for (const line of state.serial) appendLog($("serial"), `${time(line.atMs)}  ${line.text}`);
  for (const entry of state.diagnostics) appendLog($("diagnostics"), `${entry.part}: ${entry.message}`, entry.severity);
  if (state.feeds.database) renderDb(state.feeds.database.tree);
  for (const message of state.feeds.mqtt?.messages ?? []) appendLog($("mqtt"), `${message.topic}  ${message.payload}`);
  for (const reading of state.feeds.readings?.points ?? []) addReading(reading);
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
}

const keypad = $("keypad");
keypad.addEventListener("button-press", (event) => post("/api/keypad", { key: event.detail.key, action: "press" }));
keypad.addEventListener("button-release", (event) => post("/api/keypad", { key: event.detail.key, action: "release" }));
$("distance").addEventListener("input", (event) => {
  const distanceCm = Number(event.target.value);
  $("distance-value").textContent = `${distanceCm} cm`;
  post("/api/ir", { distanceCm });
});
$("obstacle").addEventListener("change", (event) => post("/api/ir", { obstacle: event.target.checked }));
$("mqtt-send").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await post("/api/mqtt", { topic: $("mqtt-topic").value.trim(), payload: $("mqtt-payload").value });
  if (!response.ok) appendLog($("mqtt"), `not sent: ${(await response.json()).error}`, "error");
});
$("reset").addEventListener("click", () => post("/api/reset", {}));

start().catch((error) => {
  $("status").textContent = `cannot reach the lab: ${error.message}`;
});
