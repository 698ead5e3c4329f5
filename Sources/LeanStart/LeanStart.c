// The runtime's argv entry points for the lean tools (see include/LeanStart.h).
#include "LeanStart.h"

#include <stddef.h>

static char **recordedArgv;
static int recordedArgc;
static char **overrideArgv;
static int overrideArgc;
static char *emptyArgv[1];

// glibc calls ELF constructors with (argc, argv, envp), in static and dynamic executables alike.
__attribute__((constructor)) static void leanStartRecordArguments(int argc, char **argv, char **envp) {
    (void)envp;
    if (argv != NULL && argc >= 0) {
        recordedArgc = argc;
        recordedArgv = argv;
    }
}

char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    if (overrideArgv != NULL) {
        *outArgLen = overrideArgc;
        return overrideArgv;
    }
    if (recordedArgv != NULL) {
        *outArgLen = recordedArgc;
        return recordedArgv;
    }
    *outArgLen = 0;
    return emptyArgv;
}

void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    overrideArgv = argv;
    overrideArgc = argc;
}
