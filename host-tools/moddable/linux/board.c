/*
 * The virtual board's wire for firmware on Moddable's Linux runtime: ECMA-419 reads are synchronous, so every IO
 * call is a blocking request/reply over a Unix socket to the esplab host that owns the board ($ESPLAB_BOARD).
 * Frames are a 4-byte big-endian length and a payload whose first byte says what it is:
 *   'q' request from the firmware (JSON)    'r' the host's reply (JSON)    'e' an event from the host (JSON)
 * Events (an input edge) may arrive while the firmware waits for a reply; they are queued and handed to the
 * listener from the GLib main loop, never inside another call, as the device delivers interrupts.
 */
#include "xsAll.h"
#include "mc.xs.h"

#include <glib.h>
#include <glib-unix.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int gBoard = -1;
static xsMachine* gMachine = NULL;
static xsSlot gListener;
static GQueue gEvents = G_QUEUE_INIT;
static guint gDispatchSource = 0;
static txSlot* gPaintedUpTo = NULL;

/* Stack high-water mark without an instrumented build: the unused stack is painted once; the stack grows down
   from stackTop, so the deepest point since is the bottom of the unpainted run that ends where painting began.
   (XS's regular expressions borrow free stack from stackBottom up for their states: that end is not scanned.) */
#define kStackPaint 0xA5
static void boardPaintStack(txMachine* the)
{
	if (gPaintedUpTo)
		return;
	gPaintedUpTo = the->stack;
	memset(the->stackBottom, kStackPaint, (gPaintedUpTo - the->stackBottom) * sizeof(txSlot));
}

static int boardPainted(const txSlot* slot)
{
	const uint8_t* bytes = (const uint8_t*)slot;
	size_t i;
	for (i = 0; i < sizeof(txSlot); i++)
		if (bytes[i] != kStackPaint)
			return 0;
	return 1;
}

static txSlot* boardDeepestSlot(txMachine* the)
{
	txSlot* slot = gPaintedUpTo;
	while ((slot > the->stackBottom) && !boardPainted(slot - 1))
		slot--;
	return (slot < the->stack) ? slot : the->stack;
}

static void boardFail(const char* what)
{
	fprintf(stderr, "# esplab board: %s (%s)\n", what, strerror(errno));
	fflush(stderr);
	_exit(90);
}

static void boardConnect(void)
{
	struct sockaddr_un address;
	const char* path = getenv("ESPLAB_BOARD");
	if (gBoard >= 0)
		return;
	if (!path || (strlen(path) >= sizeof(address.sun_path))) {
		errno = EINVAL;
		boardFail("ESPLAB_BOARD does not name the host's socket");
	}
	gBoard = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	strcpy(address.sun_path, path);
	if ((gBoard < 0) || (connect(gBoard, (struct sockaddr*)&address, sizeof(address)) < 0))
		boardFail("cannot reach the esplab host");
}

static void boardReadFully(void* buffer, size_t size)
{
	uint8_t* at = buffer;
	while (size) {
		ssize_t count = read(gBoard, at, size);
		if (count == 0) {
			/* The host went away: the board is gone, as if power were cut. */
			fflush(stdout);
			_exit(0);
		}
		if (count < 0) {
			if (errno == EINTR)
				continue;
			boardFail("reading from the esplab host failed");
		}
		at += count;
		size -= count;
	}
}

static void boardWriteFully(const void* buffer, size_t size)
{
	const uint8_t* at = buffer;
	while (size) {
		ssize_t count = write(gBoard, at, size);
		if (count < 0) {
			if (errno == EINTR)
				continue;
			boardFail("writing to the esplab host failed");
		}
		at += count;
		size -= count;
	}
}

/* One frame; the caller frees it. The payload is NUL-terminated for use as a string. */
static char* boardReadFrame(uint32_t* length)
{
	uint8_t header[4];
	char* frame;
	boardReadFully(header, 4);
	*length = ((uint32_t)header[0] << 24) | ((uint32_t)header[1] << 16) | ((uint32_t)header[2] << 8) | header[3];
	if ((*length == 0) || (*length > (16 * 1024 * 1024))) {
		errno = EPROTO;
		boardFail("the esplab host sent a malformed frame");
	}
	frame = g_malloc(*length + 1);
	boardReadFully(frame, *length);
	frame[*length] = 0;
	return frame;
}

static gboolean boardDispatch(gpointer data)
{
	char* frame;
	gDispatchSource = 0;
	while ((frame = g_queue_pop_head(&gEvents))) {
		xsBeginHost(gMachine);
		{
			xsVars(1);
			xsVar(0) = xsString(frame + 1);
			g_free(frame);
			xsCallFunction1(gListener, xsUndefined, xsVar(0));
		}
		xsEndHost(gMachine);
	}
	return G_SOURCE_REMOVE;
}

static void boardQueueEvent(char* frame)
{
	g_queue_push_tail(&gEvents, frame);
	if (gMachine && !gDispatchSource)
		gDispatchSource = g_idle_add(boardDispatch, NULL);
}

/* The main loop saw the socket readable, but a callback it ran first may have made a call() that already read what
   arrived (call() queues the events it meets). Reading then would block the whole firmware until the host's next
   frame — its timers and sockets with it — so only a frame that is still there is read. */
static gboolean boardReadable(gint fd, GIOCondition condition, gpointer data)
{
	uint32_t length;
	char* frame;
	uint8_t first;
	ssize_t waiting = recv(gBoard, &first, 1, MSG_PEEK | MSG_DONTWAIT);
	if ((waiting < 0) && ((errno == EAGAIN) || (errno == EWOULDBLOCK) || (errno == EINTR)))
		return G_SOURCE_CONTINUE;
	frame = boardReadFrame(&length);
	if (frame[0] == 'e')
		boardQueueEvent(frame);
	else
		g_free(frame);
	return G_SOURCE_CONTINUE;
}

/* call(requestJSON) -> replyJSON, blocking until the host answers. */
void xs_esplab_board_call(xsMachine* the)
{
	const char* request = xsToString(xsArg(0));
	size_t size = strlen(request) + 1;
	uint8_t header[5] = { (uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size, 'q' };
	boardConnect();
	boardPaintStack(the);
	boardWriteFully(header, 5);
	boardWriteFully(request, size - 1);
	for (;;) {
		uint32_t length;
		char* frame = boardReadFrame(&length);
		if (frame[0] == 'r') {
			xsResult = xsString(frame + 1);
			g_free(frame);
			return;
		}
		if (frame[0] == 'e')
			boardQueueEvent(frame);
		else
			g_free(frame);
	}
}

/* listen(callback): events from the host are handed to callback(eventJSON) from the main loop. */
void xs_esplab_board_listen(xsMachine* the)
{
	boardConnect();
	if (gMachine)
		return;
	gMachine = the;
	gListener = xsArg(0);
	xsRemember(gListener);
	g_unix_fd_add(gBoard, G_IO_IN, boardReadable, NULL);
	if (!g_queue_is_empty(&gEvents) && !gDispatchSource)
		gDispatchSource = g_idle_add(boardDispatch, NULL);
}

/* memory() -> JSON: after a full collection, the slots and chunk bytes alive, their peaks, and the stack's deepest
   point since the first call, in slots (the same count as on the ESP32; slots are bigger here). */
void xs_esplab_board_memory(xsMachine* the)
{
	char report[320];
	txSlot* deepest;
	xsCollectGarbage();
	deepest = boardDeepestSlot(the);
	snprintf(report, sizeof(report),
		"{\"stackSlots\":%ld,\"stackPeakSlots\":%ld,\"heapSlots\":%ld,\"heapPeakSlots\":%ld,\"chunkBytes\":%ld,\"chunkPeakBytes\":%ld,\"slotBytes\":%d}",
		(long)(the->stackTop - the->stackBottom), (long)(the->stackTop - deepest),
		(long)the->currentHeapCount, (long)the->peakHeapCount,
		(long)the->currentChunksSize, (long)the->peakChunksSize, (int)sizeof(txSlot));
	xsResult = xsString(report);
}
