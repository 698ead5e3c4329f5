/// Where the header editor is (Courier's `append_more_headers`).
enum AppendStage: Sendable, Equatable {
    /// Editing the message's own headers (`ReadLineAddHeader`).
    case editing
    /// Emitting the headers added by options (`ReadLineAddNewHeader`).
    case appending
    /// Done: lines pass straight through from the from filter.
    case done
}

extension ReformailEngine {
    /// The next line after header editing.
    func nextEditedLine() -> [UInt8]? {
        switch appendStage {
        case .editing: return editNextHeader()
        case .appending: return nextAddedHeader()
        case .done: return fromFilter()
        }
    }

    /// Applies `-i`, `-R`, `-I`, `-u`, `-U` and `-a` to the message's headers, in that order,
    /// returning the next header to print; at the blank line, switches to adding headers.
    private func editNextHeader() -> [UInt8]? {
        var line: [UInt8]
        var key: [UInt8]
        while true {
            guard let next = fromFilter() else { return nil }
            if next.first == 0x0A {
                // An empty value (`-I 'X:'`) only deletes.
                insert.removeAll { $0.last == UInt8(ascii: ":") }
                replace.removeAll { $0.last == UInt8(ascii: ":") }
                return nextAddedHeader()
            }
            line = next
            key = Self.key(of: line)
            if Self.firstMatch(insert, key: key) != nil {
                key = Array("old-".utf8) + key
                line = Array("Old-".utf8) + line
            }
            if let r = Self.firstMatch(rename, key: key) {
                // The entry is old name + new name: what follows the matched length is the new name.
                let entry = rename[r]
                let newName = entry[min(key.count, entry.count)...]
                line = Array(newName) + line[min(key.count, line.count)...]
            }
            if Self.firstMatch(replace, key: key) != nil { continue }
            if Self.firstMatch(keepFirst, key: key) != nil {
                if Self.firstMatch(keptFirst, key: key) == nil {
                    keptFirst.append(line)
                    break
                }
                continue
            }
            if Self.firstMatch(keepLast, key: key) != nil {
                if let old = Self.firstMatch(keptLast, key: key) { keptLast.remove(at: old) }
                keptLast.append(Array(line.dropLast()))
                continue
            }
            break
        }
        if let present = Self.firstMatch(addIfAbsent, key: key) { addIfAbsent.remove(at: present) }
        return line
    }

    /// The headers options add at the end of the header block: `-a` (those still absent),
    /// `-A`, `-i`, `-I`, then the `-U` survivors; then the blank line.
    private func nextAddedHeader() -> [UInt8] {
        appendStage = .appending
        var entry: [UInt8]
        if !addIfAbsent.isEmpty {
            entry = addIfAbsent.removeFirst()
        } else if !addAlways.isEmpty {
            entry = addAlways.removeFirst()
        } else if !insert.isEmpty {
            entry = insert.removeFirst()
        } else if !replace.isEmpty {
            entry = replace.removeFirst()
        } else if !keptLast.isEmpty {
            entry = keptLast.removeFirst()
        } else {
            appendStage = .done
            return [0x0A]
        }
        entry.append(0x0A)
        return entry
    }
}
