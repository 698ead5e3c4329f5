#ifndef LEANSTART_H
#define LEANSTART_H

/// LeanStart replaces the Swift runtime's command-line object (CommandLine.cpp) in the lean
/// tools' static executables. Nothing here is called from Swift: the two functions below are the
/// runtime entry points that `CommandLine.argc`/`unsafeArgv`/`arguments` use, and defining them
/// here keeps the linker from pulling the runtime's own copy out of libswiftCore.a. That copy
/// runs a static constructor in every static executable that opens /proc/self/maps and parses
/// it with sscanf to find argv on the stack (about 50,000 instructions and five system calls
/// before `main`); glibc hands argc and argv to constructors directly, which is what we use.
/// See Docs/benchmarks.md "Lean tool start-up".

/// argv as the process received it, with its count in `*outArgLen` (an override, if one was
/// set, wins). Never NULL: an empty list when nothing was recorded.
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen);

/// Replaces what `_swift_stdlib_getUnsafeArgvArgc` returns (the runtime's testing hook).
void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc);

#endif
