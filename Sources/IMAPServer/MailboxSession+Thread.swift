import IMAP
import MailCore

extension MailboxSession {
    /// THREAD (RFC 5256 §4): ORDEREDSUBJECT and REFERENCES.
    func thread(_ tag: [UInt8], algorithm: String, _ key: SearchKey, uid: Bool, into w: inout ResponseWriter) {
        guard let s = selected else { return }
        let found = matching(key)
        var infos: [ThreadMessage] = []
        infos.reserveCapacity(found.count)
        for index in found {
            let subject = Self.baseSubjectAndReply(header("Subject", at: index) ?? [])
            let date = header("Date", at: index).flatMap { RFC5322Date(parsing: $0) }?.epochSeconds
                ?? internalSeconds(s.messages[index])
            infos.append(ThreadMessage(
                number: uid ? s.messages[index].uid : UInt32(index + 1), order: index, date: date,
                subject: subject.base, isReply: subject.isReply,
                messageID: Self.messageIDs(header("Message-ID", at: index)).first,
                references: Self.messageIDs(header("References", at: index)),
                inReplyTo: Self.messageIDs(header("In-Reply-To", at: index)).first))
        }
        let roots: [ThreadNode]
        switch algorithm {
        case "ORDEREDSUBJECT": roots = ThreadBuilder.orderedSubject(infos)
        case "REFERENCES": roots = ThreadBuilder.references(infos)
        default:
            w.tagged(tag, .bad, nil, "Unknown threading algorithm")
            return
        }
        // thread-data = "THREAD" [SP 1*thread-list] (RFC 5256 §5): the lists follow each other without spaces.
        w.untagged("THREAD" + (roots.isEmpty ? "" : " ") + roots.map { "(" + $0.rendered() + ")" }.joined())
        w.tagged(tag, .ok, nil, "THREAD done.")
    }

    /// The `<id>` tokens of a header value, in order.
    static func messageIDs(_ value: [UInt8]?) -> [[UInt8]] {
        guard let value else { return [] }
        var ids: [[UInt8]] = []
        var start: Int?
        for (i, c) in value.enumerated() {
            if c == UInt8(ascii: "<") { start = i }
            if c == UInt8(ascii: ">"), let s = start {
                let id = Array(value[s...i]).filter { $0 != 32 && $0 != 9 }
                if id.count > 2 && id.contains(UInt8(ascii: "@")) { ids.append(id) }
                start = nil
            }
            if ids.count >= 500 { break }
        }
        return ids
    }
}

/// What threading needs to know about one message.
struct ThreadMessage {
    var number: UInt32
    var order: Int
    var date: Int64
    var subject: [UInt8]
    var isReply: Bool
    var messageID: [UInt8]?
    var references: [[UInt8]]
    var inReplyTo: [UInt8]?
}

/// A node of a thread tree: a message, or a dummy that only groups its children.
final class ThreadNode {
    var message: ThreadMessage?
    var children: [ThreadNode] = []
    weak var parent: ThreadNode?

    init(_ message: ThreadMessage?) { self.message = message }

    /// The date a node sorts by: its message's, or a dummy's first child's (RFC 5256 §4 (4)).
    var sortKey: (Int64, Int) {
        if let m = message { return (m.date, m.order) }
        return children.first?.sortKey ?? (0, 0)
    }

    /// Levels above this node (bounded: the walk stops at `limit`).
    func depth(limit: Int) -> Int {
        var node = parent
        var n = 0
        while let p = node, n < limit {
            n += 1
            node = p.parent
        }
        return n
    }

    func isAncestor(of other: ThreadNode) -> Bool {
        var node: ThreadNode? = other
        var steps = 0
        while let n = node, steps < 100_000 {
            if n === self { return true }
            node = n.parent
            steps += 1
        }
        return false
    }

    func removeFromParent() {
        if let p = parent { p.children.removeAll { $0 === self } }
        parent = nil
    }

    func add(_ child: ThreadNode) {
        child.removeFromParent()
        child.parent = self
        children.append(child)
    }

    func sortChildren() {
        for c in children { c.sortChildren() }
        children.sort { $0.sortKey < $1.sortKey }
    }

    /// thread-members / thread-nested (RFC 5256 §5): one child continues the chain, several nest.
    func rendered() -> String {
        var parts: [String] = []
        if let m = message { parts.append(String(m.number)) }
        if children.count == 1 && message != nil {
            parts.append(children[0].rendered())
        } else if !children.isEmpty {
            parts.append(children.map { "(" + $0.rendered() + ")" }.joined())
        }
        return parts.joined(separator: " ")
    }
}

/// RFC 5256 §4's threading algorithms over ``ThreadMessage``s.
enum ThreadBuilder {
    /// Threads deeper than this are cut (a chain of References built on purpose must not
    /// exhaust the stack of the recursive passes below).
    static let maxDepth = 500

    static func orderedSubject(_ messages: [ThreadMessage]) -> [ThreadNode] {
        var groups: [[UInt8]: [ThreadMessage]] = [:]
        var order: [[UInt8]] = []
        for m in messages {
            if groups[m.subject] == nil { order.append(m.subject) }
            groups[m.subject, default: []].append(m)
        }
        var roots: [ThreadNode] = []
        for subject in order {
            let sorted = (groups[subject] ?? []).sorted { ($0.date, $0.order) < ($1.date, $1.order) }
            guard let first = sorted.first else { continue }
            let root = ThreadNode(first)
            for m in sorted.dropFirst() { root.add(ThreadNode(m)) }
            roots.append(root)
        }
        roots.sort { $0.sortKey < $1.sortKey }
        return roots
    }

    static func references(_ messages: [ThreadMessage]) -> [ThreadNode] {
        var table: [[UInt8]: ThreadNode] = [:]
        var all: [ThreadNode] = []
        var unique = 0
        func container(_ id: [UInt8]) -> ThreadNode {
            if let n = table[id] { return n }
            let n = ThreadNode(nil)
            table[id] = n
            all.append(n)
            return n
        }
        for m in messages {
            // (1) the message's container; a missing or duplicate Message-ID gets a unique one.
            var node: ThreadNode
            if let id = m.messageID, let existing = table[id], existing.message == nil {
                node = existing
                node.message = m
            } else {
                unique += 1
                let id = m.messageID.flatMap { table[$0] == nil ? $0 : nil } ?? Array("<unique-\(unique)>".utf8)
                node = container(id)
                node.message = m
            }
            // (1)(A) link the references in order, never changing an existing parent or making a loop.
            var refs = m.references
            if refs.isEmpty, let reply = m.inReplyTo { refs = [reply] }
            var previous: ThreadNode?
            for ref in refs {
                let current = container(ref)
                if let p = previous, current.parent == nil, current !== p, !current.isAncestor(of: p),
                   p.depth(limit: maxDepth) < maxDepth {
                    p.add(current)
                }
                previous = current
            }
            // (1)(B) the last reference is the message's parent.
            if let p = previous, p !== node, !node.isAncestor(of: p), p.depth(limit: maxDepth) < maxDepth {
                p.add(node)
            } else if previous != nil {
                node.removeFromParent()
            }
        }
        // (2) the root set; (3) prune dummies.
        let roots = all.filter { $0.parent == nil }.flatMap { prune($0, atRoot: true) }
        // (4) sort each level by date.
        for r in roots { r.sortChildren() }
        // (5) group the root set by base subject.
        var subjects: [[UInt8]: ThreadNode] = [:]
        for r in roots {
            guard let info = r.message ?? r.children.first?.message, !info.subject.isEmpty else { continue }
            if let existing = subjects[info.subject] {
                let existingReply = existing.message?.isReply ?? false
                if (existing.message != nil && r.message == nil) || (existingReply && r.message != nil && !(r.message?.isReply ?? false)) {
                    subjects[info.subject] = r
                }
            } else {
                subjects[info.subject] = r
            }
        }
        var result: [ThreadNode] = []
        var replaced: [ObjectIdentifier: ThreadNode] = [:]
        for r in roots {
            guard let info = r.message ?? r.children.first?.message, !info.subject.isEmpty,
                  var target = subjects[info.subject], target !== r else {
                if replaced[ObjectIdentifier(r)] == nil { result.append(r) }
                continue
            }
            if let newer = replaced[ObjectIdentifier(target)] { target = newer }
            if target.message == nil && r.message == nil {
                for c in r.children { target.add(c) }
            } else if target.message == nil {
                target.add(r)
            } else if r.message?.isReply == true && target.message?.isReply != true {
                target.add(r)
            } else {
                let dummy = ThreadNode(nil)
                if let position = result.firstIndex(where: { $0 === target }) {
                    result[position] = dummy
                } else {
                    result.append(dummy)
                }
                replaced[ObjectIdentifier(target)] = dummy
                subjects[info.subject] = dummy
                dummy.add(target)
                dummy.add(r)
            }
        }
        // (6) sort again, then the roots.
        for r in result { r.sortChildren() }
        result.sort { $0.sortKey < $1.sortKey }
        return result
    }

    /// RFC 5256 §4 (3): dummies without children go; a dummy's children take its place, except
    /// at the root where a dummy with several children stays.
    static func prune(_ node: ThreadNode, atRoot: Bool) -> [ThreadNode] {
        let children = node.children
        node.children = []
        for c in children {
            for kept in prune(c, atRoot: false) { node.add(kept) }
        }
        if node.message != nil { return [node] }
        if node.children.isEmpty { return [] }
        if atRoot && node.children.count > 1 { return [node] }
        let promoted = node.children
        for c in promoted { c.parent = nil }
        node.children = []
        return promoted
    }
}
