import MailCore

/// What one makemime level (the command line, or one `( … )` group) asks for: Courier's
/// `struct mimestruct`, as parsed from the arguments.
struct MakemimeRequest {
    /// The three kinds of invocation (makemime(1)).
    enum Kind {
        /// `-c type`: a new MIME section from the input.
        case simple(contentType: [UInt8])
        /// `-m type`: a multipart section around the input.
        case multipart(contentType: [UInt8])
        /// `-j file1`: append the input as a new section to the multipart `file1`.
        case join(multipart: MakemimeSource)
    }

    var kind: Kind
    /// The file argument (the new section for `-j`).
    var input: MakemimeSource
    /// `-o`: where to write; nil is standard output.
    var outputFile: [UInt8]?
    /// `-e`, already lower-cased and validated.
    var encoding: TransferEncodingKind?
    /// `-C`.
    var charset: [UInt8]?
    /// `-N`.
    var contentName: [UInt8]?
    /// `-a`, in order.
    var headers: [[UInt8]] = []

    init(kind: Kind, input: MakemimeSource) {
        self.kind = kind
        self.input = input
    }
}

/// An input of a level: a named file (`-`, `&n` or a path) or a nested invocation.
indirect enum MakemimeSource {
    case file([UInt8])
    case child(MakemimeRequest)
}
