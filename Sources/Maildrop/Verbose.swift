import ToolSupport

/// `VERBOSE` tracing (tools.md §1.4 "Verbosity levels"): messages on stderr, as Courier's
/// maildrop prints them. Level ≥1 deliveries to programs and mbox files, `xfilter`, `system`
/// and backquotes; ≥2 the start-up steps (home directory, filter files, envelope sender);
/// ≥3 every line a pattern is tried on; ≥4 assignments, `if`/`while` conditions, pattern
/// scores, locks, includes, `import`/`unset`, `exception`; ≥5 mbox locking and completed
/// deliveries. Messages about a statement start with `FILE(LINE): `.
extension MaildropInterpreter {
    /// Writes `text` and a newline to stderr when the level is at least `level`.
    func trace(_ level: Int, _ text: @autoclosure () -> String) {
        guard verboseLevel >= level else { return }
        // stdout first, so that `echo` output and the trace interleave as they happened.
        _ = out.flush()
        emitTrace(text() + "\n")
    }

    /// Like `trace(_:_:)`, prefixed with the running file and the statement's line.
    func trace(_ level: Int, line: Int, _ text: @autoclosure () -> String) {
        guard verboseLevel >= level else { return }
        _ = out.flush()
        emitTrace("\(currentFile)(\(line)): " + text() + "\n")
    }

    func emitTrace(_ text: String) {
        if let traceOutput { traceOutput(text) } else { printError(text) }
    }

    /// One evaluation of a `while` condition, traced at level 4.
    func whileCondition(_ condition: MaildropExpr, line: Int) throws(MaildropInterruption) -> Bool {
        trace(4, line: line, "Evaluating WHILE condition.")
        let value = try evaluate(condition, line: line)
        trace(4, line: line, "While condition evaluated, result=\(value)")
        return MaildropValue.isTrue(value)
    }
}
