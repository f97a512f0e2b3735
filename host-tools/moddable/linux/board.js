/* The virtual board's wire (board.c): a blocking call to the esplab host, a listener for its events, a memory report. */
function call(request) @ "xs_esplab_board_call";
function listen(callback) @ "xs_esplab_board_listen";
function memory() @ "xs_esplab_board_memory";
export { call, listen, memory };
