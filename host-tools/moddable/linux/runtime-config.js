/*
 * mc/config for firmware run by esplab's Moddable engine: on the device mcconfig bakes the settings in; here they
 * change every run (the local cloud's ports), so the host hands them over at boot (firmware-main.js) and this object
 * — preloaded but not frozen, so XS gives it a RAM copy when written — takes them before the firmware reads it.
 * `file.root` is where Moddable's Linux Preference keeps its file (the device's working folder, its "flash"); `tls`
 * the cipher suites its TLS modules read when they load.
 */
const config = { file: { root: "./" }, tls: { DHE_RSA: true, ECDHE_RSA: true } };
export default config;
