// esplab dashboard: one chart per reading field, one line per device, updated live from /api/events.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
/** Units from the field name's suffix, as the firmware names them (distance_cm, uptime_ms, temp_c …). */
const UNITS = { cm: "cm", mm: "mm", m: "m", ms: "ms", s: "s", c: "°C", f: "°F", pct: "%", percent: "%", v: "V", mv: "mV", ma: "mA", lux: "lx", hpa: "hPa", deg: "°", dbm: "dBm", g: "g", kg: "kg" };
const SVG = "http://www.w3.org/2000/svg";

const state = { readings: [], devices: [], hidden: new Set(), colors: new Map() };
const $ = (id) => document.getElementById(id);

function unitOf(field) {
  const suffix = field.includes("_") ? field.slice(field.lastIndexOf("_") + 1).toLowerCase() : "";
  return UNITS[suffix] ?? "";
}

function colorOf(device) {
  if (!state.colors.has(device)) state.colors.set(device, COLORS[state.colors.size % COLORS.length]);
  return state.colors.get(device);
}

function query() {
  const params = new URLSearchParams();
  const range = $("range").value;
  if (range) params.set("since", String(Date.now() - Number(range)));
  for (const device of state.devices) if (!state.hidden.has(device)) params.append("device", device);
  return params;
}

async function load() {
  const range = $("range").value;
  const response = await fetch(`/api/readings${range ? `?since=${Date.now() - Number(range)}` : ""}`);
  if (!response.ok) throw new Error(await response.text());
  const body = await response.json();
  $("store").textContent = body.store;
  state.devices = body.devices;
  state.readings = body.readings;
  render();
}

function visible() {
  const since = $("range").value ? Date.now() - Number($("range").value) : -Infinity;
  return state.readings.filter((r) => r.receivedAt >= since && !state.hidden.has(r.device));
}

function render() {
  renderDevices();
  const readings = visible();
  $("csv").href = `/api/readings.csv?${query()}`;
  $("summary").textContent = `${readings.length} readings from ${new Set(readings.map((r) => r.device)).size} device(s)`;
  $("summary").dataset.count = String(readings.length);
  const fields = [...new Set(readings.flatMap((r) => Object.keys(r.fields).filter((f) => typeof r.fields[f] === "number" || typeof r.fields[f] === "boolean")))].sort();
  const charts = $("charts");
  charts.replaceChildren();
  if (!fields.length) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "No readings in this time range yet. They appear here as they are stored.";
    charts.append(empty);
    return;
  }
  for (const field of fields) charts.append(chart(field, readings));
}

function renderDevices() {
  const box = $("devices");
  box.replaceChildren();
  for (const device of state.devices) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = !state.hidden.has(device);
    input.dataset.device = device;
    input.addEventListener("change", () => {
      if (input.checked) state.hidden.delete(device);
      else state.hidden.add(device);
      render();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colorOf(device);
    label.append(input, swatch, document.createTextNode(device));
    box.append(label);
  }
}

function chart(field, readings) {
  const unit = unitOf(field);
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.dataset.field = field;
  const title = document.createElement("h2");
  title.textContent = unit ? `${field} (${unit})` : field;
  figure.append(title);
  const width = 600, height = 220, left = 52, right = 10, top = 10, bottom = 24;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const points = readings.filter((r) => r.fields[field] !== undefined && r.fields[field] !== null).map((r) => ({ device: r.device, t: r.receivedAt, v: Number(r.fields[field]) }));
  const t0 = Math.min(...points.map((p) => p.t)), t1 = Math.max(...points.map((p) => p.t));
  let v0 = Math.min(...points.map((p) => p.v)), v1 = Math.max(...points.map((p) => p.v));
  if (v0 === v1) { v0 -= 1; v1 += 1; }
  const x = (t) => left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (width - left - right);
  const y = (v) => top + (1 - (v - v0) / (v1 - v0)) * (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const value = v0 + ((v1 - v0) * i) / 4;
    svg.append(line(left, y(value), width - right, y(value), "grid"), text(left - 4, y(value) + 4, format(value), "end"));
  }
  svg.append(line(left, top, left, height - bottom, "axis"), line(left, height - bottom, width - right, height - bottom, "axis"));
  svg.append(text(left, height - 6, clock(t0), "start"), text(width - right, height - 6, clock(t1), "end"));
  for (const device of [...new Set(points.map((p) => p.device))]) {
    const own = points.filter((p) => p.device === device).sort((a, b) => a.t - b.t);
    const path = document.createElementNS(SVG, "polyline");
    path.setAttribute("points", own.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "));
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", colorOf(device));
    path.setAttribute("stroke-width", "2");
    path.dataset.device = device;
    path.dataset.points = String(own.length);
    // the latest reading as a dot, so a device with a single reading shows too
    const last = own[own.length - 1];
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", x(last.t).toFixed(1));
    dot.setAttribute("cy", y(last.v).toFixed(1));
    dot.setAttribute("r", "3.5");
    dot.setAttribute("fill", colorOf(device));
    svg.append(path, dot);
  }
  figure.append(svg);
  return figure;
}

function line(x1, y1, x2, y2, cls) {
  const element = document.createElementNS(SVG, "line");
  for (const [name, value] of Object.entries({ x1, y1, x2, y2 })) element.setAttribute(name, String(value));
  element.setAttribute("class", cls);
  return element;
}

function text(xPos, yPos, content, anchor) {
  const element = document.createElementNS(SVG, "text");
  element.setAttribute("x", String(xPos));
  element.setAttribute("y", String(yPos));
  element.setAttribute("text-anchor", anchor);
  element.textContent = content;
  return element;
}

function format(value) {
  return Math.abs(value) >= 1000 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function identity(reading) {
  return JSON.stringify([reading.device, reading.seq ?? null, reading.receivedAt, reading.fields]);
}

function listen() {
  const events = new EventSource("/api/events");
  // (re)load on every (re)connection, so nothing stored while the stream was down is missing
  events.addEventListener("open", () => {
    $("status").textContent = "live";
    $("status").className = "live";
    load().catch(showError);
  });
  events.addEventListener("error", () => { $("status").textContent = "reconnecting…"; $("status").className = "lost"; });
  events.addEventListener("readings", (event) => {
    const known = new Set(state.readings.map(identity));
    const fresh = JSON.parse(event.data).filter((reading) => !known.has(identity(reading)));
    state.readings.push(...fresh);
    for (const reading of fresh) if (!state.devices.includes(reading.device)) state.devices = [...state.devices, reading.device].sort();
    render();
  });
}

$("range").addEventListener("change", () => load().catch(showError));
function showError(error) { $("summary").textContent = `cannot load the readings: ${error.message}`; }
listen();
