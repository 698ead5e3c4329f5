import Testing
@testable import IMAP

func parse(_ text: String) -> Result<TaggedCommand, CommandParser.Failure> {
    CommandParser.parse(Array(text.utf8))
}

func command(_ text: String) -> Command? {
    if case .success(let tagged) = parse(text) { return tagged.command }
    return nil
}

@Suite struct ParserTests {
    @Test func listWithStar() {
        #expect(command(#"a LIST "" *"#) != nil)
        #expect(command(#"a LIST "" INBOX.Old*"#) != nil)
        #expect(command(#"a LSUB "" *"#) != nil)
    }
}
