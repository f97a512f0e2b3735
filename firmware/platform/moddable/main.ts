// The device's main module: all of the firmware is the preloaded library "esplab" (in flash, built at link time);
// booting only starts it.
import { startDevice } from "esplab";

startDevice();
