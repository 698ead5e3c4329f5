import ToolSupport

/// Writes one line to stderr (messages of the admin commands).
func printToStandardError(_ text: String) {
    printError(text + "\n")
}
