/*
 * A headless host for Moddable apps on Linux (mcconfig -p x-cli-lin ships none): prepares the machine from the
 * linked preparation, imports "main", runs a GLib main loop for the lin timers and sockets, and maps how the app
 * ends to an exit status:
 *   the app's exit(n)  -> n (0-99), at once
 *   an XS abort        -> 100 + the abort status (105 unhandled exception, 102 stack overflow, 101 memory full),
 *                         after "# xs abort: <reason>[: <exception>]" on stderr.
 * Files the app's Resource module asks for are read from $ESPLAB_RESOURCES (mcrez is not part of this build).
 */
#include "xsAll.h"
#include "mc.xs.h"

#include <glib.h>

static int gExitStatus = 0;
static int gArgc = 0;
static char** gArgv = NULL;

static void reportException(txMachine* the)
{
	char* text = NULL;
	fxBeginHost(the);
	mxPush(mxException);
	mxTry(the) {
		fxToString(the, the->stack);
		text = g_strdup(the->stack->value.string);
	}
	mxCatch(the) {
	}
	fxEndHost(the);
	if (text) {
		fprintf(stderr, ": %s", text);
		g_free(text);
	}
}

void fxAbort(txMachine* the, int status)
{
	fflush(stdout);
	fprintf(stderr, "# xs abort: %s", fxAbortString(status));
	if (status == XS_UNHANDLED_EXCEPTION_EXIT || status == XS_UNHANDLED_REJECTION_EXIT)
		reportException(the);
	fprintf(stderr, "\n");
	fflush(stderr);
	_exit(100 + status);
}

void xs_esplab_exit(xsMachine* the)
{
	gExitStatus = (xsToInteger(xsArgc) > 0) ? xsToInteger(xsArg(0)) : 0;
	if ((gExitStatus < 0) || (gExitStatus > 99))
		gExitStatus = 99;
	fflush(stdout);
	_exit(gExitStatus);
}

void xs_esplab_argv(xsMachine* the)
{
	int i;
	xsResult = xsNewArray(0);
	for (i = 1; i < gArgc; i++)
		xsSetAt(xsResult, xsInteger(i - 1), xsString(gArgv[i]));
}

typedef struct sxResourceFile txResourceFile;
struct sxResourceFile {
	txResourceFile* next;
	char* path;
	void* data;
	size_t size;
};
static txResourceFile* gResources = NULL;

const void* mcGetResource(xsMachine* the, char* path, size_t* size)
{
	txResourceFile* file;
	const char* folder = getenv("ESPLAB_RESOURCES");
	char* full;
	gchar* data;
	gsize length;
	for (file = gResources; file; file = file->next) {
		if (!strcmp(file->path, path)) {
			*size = file->size;
			return file->data;
		}
	}
	if (!folder || strstr(path, ".."))
		return NULL;
	full = g_build_filename(folder, path, NULL);
	if (!g_file_get_contents(full, &data, &length, NULL)) {
		g_free(full);
		return NULL;
	}
	g_free(full);
	file = g_new0(txResourceFile, 1);
	file->path = g_strdup(path);
	file->data = data;
	file->size = length;
	file->next = gResources;
	gResources = file;
	*size = length;
	return data;
}

int main(int argc, char* argv[])
{
	xsMachine* machine;
	GMainLoop* loop;
	gArgc = argc;
	gArgv = argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	loop = g_main_loop_new(NULL, FALSE);
	machine = fxPrepareMachine(NULL, xsPreparation(), "esplab", NULL, NULL);
	xsBeginHost(machine);
	{
		xsVars(1);
		xsVar(0) = xsAwaitImport("main", XS_IMPORT_NAMESPACE);
	}
	xsEndHost(machine);
	g_main_loop_run(loop);
	return 0;
}
