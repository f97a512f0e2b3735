/* main for firmware run by esplab's Moddable engine: the board's events, the settings from the host, then the
   device's own start. */
import config from "mc/config";
import { connectBoard } from "embedded:provider/builtin";
import { call } from "esplab/board";
import { startDevice } from "esplab";

connectBoard();
Object.assign(config, JSON.parse(call(JSON.stringify({ op: "config" }))).value);
startDevice();
