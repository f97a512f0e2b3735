// Each part model registers its kind with the board description when imported. One line per part.
import "./lcd1602-i2c.ts";
import "./keypad-4x4.ts";
import "./servo-sg90.ts";
import "./ir-obstacle.ts";
import "./ir-gp2y0a21.ts";
