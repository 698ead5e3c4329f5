import MailCore
import ToolSupport

/// `-x`/`-X`: print selected headers of the (edited) message, always unfolded.
enum HeaderExtraction {
    static func run(_ engine: ReformailEngine, values: [[UInt8]], headers: [[UInt8]], to out: FDOutput) {
        engine.catenate = true
        while let line = engine.readLine(), !engine.inBody {
            let key = ReformailEngine.key(of: line)
            if ReformailEngine.firstMatch(values, key: key) != nil {
                // The value: after the name, leading whitespace (not the line end) skipped.
                var i = key.count
                while i < line.count, line[i] != 0x0A, CByteClass.isSpace(line[i]) { i += 1 }
                out.write(line[min(i, line.count)...])
                continue
            }
            if ReformailEngine.firstMatch(headers, key: key) != nil {
                out.write(line)
            }
        }
        engine.reader.drain()
    }
}
