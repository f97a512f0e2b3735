// Each part model registers its kind with the board description when imported. One line per part.
import "./lcd1602-i2c.ts";
