/* The Linux host's own services for the app it runs (main.c). */
function exit(status) @ "xs_esplab_exit";
function argv() @ "xs_esplab_argv";
export { exit, argv };
