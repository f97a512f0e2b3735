// Every app, registered by importing it. One line per app.
import "./board-check.ts";
import "./assignment2.ts";
import "./assignment3.ts";
import "./assignment5.ts";
import "./telemetry.ts";
