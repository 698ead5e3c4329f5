#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

@Suite struct ACLRightsTests {
    @Test func rightsAreSortedAndUnique() {
        #expect(ACLRights("xwtsrlieca").description == "aceilrstwx")
        #expect(ACLRights("llrr\u{1}  ").description == "lr")
        #expect(ACLRights("lr").union("ra").description == "alr")
        #expect(ACLRights.all.subtracting("ex").description == "acilrstw")
    }

    @Test func clientDExpandsToExpungeDeleteAndDeleteMailbox() {
        #expect(ACLRights.fromClient(Array("d".utf8)).description == "etx")
        #expect(ACLRights.fromClient(Array("lrd".utf8)).description == "elrtx")
        #expect(ACLRights.fromClient(Array("lr".utf8)).description == "lr")
    }

    @Test func reportedLettersFollowCourier() {
        // spec/access.md §1.6: stored aceilrstwx is reported as acdilrsw.
        #expect(ACLRights.all.reportedText == "acdilrsw")
        #expect(ACLRights.all.selectText == "acdilrsw")
        // Observed from Courier's imapd: `aeilstwx` → "adilsw"; `acelrstwx` → "acdlrsw"; `etx` → "d".
        #expect(ACLRights("aeilstwx").reportedText == "adilsw")
        #expect(ACLRights("acelrstwx").reportedText == "acdlrsw")
        #expect(ACLRights("etx").reportedText == "d")
        // Without x (or t) there is no d, and e, t, x are hidden.
        #expect(ACLRights("aeilrst").reportedText == "ailrs")
        // SELECT's code shows the stored letters unless e, t and x are all there.
        #expect(ACLRights("aeilrst").selectText == "aeilrst")
    }
}

@Suite struct ACLListTests {
    @Test func parsesAndWritesCouriersFile() {
        let text = "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lr\n-user=bob rw\n"
        let list = ACLList.parse(Array(text.utf8))
        #expect(String(decoding: list.serialized, as: UTF8.self) == text)
        #expect(list.rights(of: "user=bob") == "lr")
    }

    @Test func administratorsAlwaysGetEveryRight() {
        let list = ACLList.parse(Array("owner al\nadministrators r\n-administrators alr\n".utf8))
        #expect(list.rights(of: "administrators") == .all)
        #expect(list.rights(of: "-administrators") == "r")
        let group = ACLList.parse(Array("owner al\ngroup=administrators l\n".utf8))
        #expect(group.rights(of: "group=administrators") == .all)
        #expect(group.rights(of: "administrators") == nil)
        let added = ACLList.parse(Array("owner al\n".utf8))
        #expect(added.rights(of: "administrators") == .all)
    }

    @Test func hostileLinesAreSkipped() {
        let list = ACLList.parse(Array("\n\u{1}bad lr\nonly\n   \nowner   al r\n\u{FF}\u{FE} x\n".utf8) + [0xff, 0x20, 0x6c])
        #expect(list.rights(of: "owner") == "alr")
        #expect(list.rights(of: "only") == ACLRights.none)
        #expect(!list.entries.contains { $0.identifier.contains("bad") })
    }

    @Test func unionMinusNegativeRights() {
        var list = ACLList.inboxDefault
        list.set("anyone", "lr")
        list.set("user=bob", "iw")
        list.set("group=staff", "s")
        list.set("-group=staff", "w")
        let bob = list.rights(user: "bob", owner: "user=alice", options: "group=staff,disableshared=1")
        #expect(bob.description == "ilrs")
        let carol = list.rights(user: "carol", owner: "user=alice", options: "")
        #expect(carol.description == "lr")
        let alice = list.rights(user: "alice", owner: "user=alice", options: "")
        #expect(alice == .all)
        let admin = list.rights(user: "root", owner: "user=alice", options: "group=administrators")
        #expect(admin == .all)
    }

    @Test func ownerAlwaysKeepsAdminister() {
        var list = ACLList.inboxDefault
        list.set("-user=alice", "ar")
        #expect(list.rights(user: "alice", owner: "user=alice", options: "").description == "aceilstwx")
    }

    @Test func validationKeepsOwnerAndAdministrators() throws {
        var list = ACLList.inboxDefault
        list.set("owner", "ceilrstwx")
        #expect(throws: ACLValidationError.minimumRights(identifier: "owner")) { try list.validate(owner: "") }
        list = ACLList.inboxDefault
        list.set("-user=demo", "l")
        #expect(throws: ACLValidationError.minimumRights(identifier: "user=demo")) { try list.validate(owner: "user=demo") }
        try list.validate(owner: "")
        list = ACLList.inboxDefault
        list.set("-anyone", "w")
        #expect(throws: ACLValidationError.administratorsNeedAllRights) { try list.validate(owner: "user=demo") }
        list = ACLList.inboxDefault
        list.set("administrators", "r")
        #expect(throws: ACLValidationError.administratorsNeedAllRights) { try list.validate(owner: "") }
    }
}

@Suite struct FolderACLStoreTests {
    @Test func inboxDefaultsAndFolderInheritance() throws {
        let scratch = ScratchDirectory()
        let maildir = Maildir(path: try scratch.maildir())
        let store = FolderACLStore(maildir: maildir)
        #expect(store.read(nil) == ACLList.inboxDefault)
        #expect(readText(maildir.path + "/courierimapacl") == nil)  // INBOX: created on first SETACL only
        var inbox = store.read(nil)
        inbox.set("user=bob", "lr")
        try store.write(inbox, for: nil, owner: "user=demo")
        #expect(readText(maildir.path + "/courierimapacl") == "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lr\n")
        let sent = try FolderName("Sent")
        try maildir.createFolder(sent)
        #expect(store.read(sent).rights(of: "user=bob") == "lr")
        // The inherited list is saved for the folder; changing INBOX later does not change it.
        #expect(readText(maildir.path + "/.Sent/courierimapacl") == "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lr\n")
        inbox.remove("user=bob")
        try store.write(inbox, for: nil, owner: "user=demo")
        #expect(store.read(sent).rights(of: "user=bob") == "lr")
        // No stray temporary files.
        #expect(names(maildir.path + "/tmp").isEmpty)
        #expect(names(maildir.path + "/.Sent/tmp").isEmpty)
    }

    @Test func hierarchyNodesUseCourierimaphieracl() throws {
        let scratch = ScratchDirectory()
        let maildir = Maildir(path: try scratch.maildir())
        let store = FolderACLStore(maildir: maildir)
        let child = try FolderName("Résumé.x")
        try maildir.createFolder(child)
        _ = store.read(child)
        // The parent is only a hierarchy name: its inherited ACL went to courierimaphieracl/.
        #expect(readText(maildir.path + "/courierimaphieracl/Résumé") == "owner aceilrstwx\nadministrators aceilrstwx\n")
        #expect(readText(maildir.path + "/.Résumé.x/courierimapacl") != nil)
        // When the hierarchy name becomes a folder, its entry moves in.
        var parentACL = store.read(try FolderName("Résumé"))
        parentACL.set("anyone", "l")
        try store.write(parentACL, for: try FolderName("Résumé"), owner: "")
        try maildir.createFolder(try FolderName("Résumé"))
        #expect(store.read(try FolderName("Résumé")).rights(of: "anyone") == "l")
        #expect(readText(maildir.path + "/courierimaphieracl/Résumé") == nil)
        #expect(readText(maildir.path + "/.Résumé/courierimapacl")?.contains("anyone l") == true)
    }

    @Test func refusedWritesLeaveTheFileAlone() throws {
        let scratch = ScratchDirectory()
        let maildir = Maildir(path: try scratch.maildir())
        let store = FolderACLStore(maildir: maildir)
        var list = store.read(nil)
        list.set("owner", "lr")
        #expect(throws: FolderACLStore.WriteError.invalid(.minimumRights(identifier: "owner"))) {
            try store.write(list, for: nil, owner: "user=demo")
        }
        #expect(readText(maildir.path + "/courierimapacl") == nil)
    }

    @Test func resetRemovesOldStaleHierarchyEntries() throws {
        let scratch = ScratchDirectory()
        let maildir = Maildir(path: try scratch.maildir())
        let store = FolderACLStore(maildir: maildir)
        try maildir.createFolder(try FolderName("a.b"))
        _ = store.read(try FolderName("a.b"))
        writeFile(maildir.path + "/courierimaphieracl/gone", "owner al\n")
        store.resetHierarchy(now: SystemCall.now().seconds + 7200)
        #expect(names(maildir.path + "/courierimaphieracl") == ["a"])
    }
}

@Suite struct SharedIndexTests {
    @Test func parsesRecordsGroupsAndComments() {
        let text = "# accounts\n\nbob\t1000\t1000\t/home/bob\nann\t1\t1\t/home/ann\t./Mail\nx.y/z\t1\t1\t/h\t/abs/Maildir\nsales\t*\tindexsales\nbad\nshort\t1\t1\n"
        let records = SharedIndex.parse(Array(text.utf8))
        #expect(records == [
            .account(name: "bob", maildir: "/home/bob/Maildir"),
            .account(name: "ann", maildir: "/home/ann/Mail"),
            .account(name: "x.y/z", maildir: "/abs/Maildir"),
            .group(name: "sales", file: "indexsales"),
        ])
        #expect(SharedIndex(indexFile: "/i").imapComponent("x.y/z") == "x y z")
        #expect(SharedIndex(indexFile: "/i", mungeNames: true).imapComponent("x.y/z\\") == "x\\:y\\;z\\\\")
        #expect(SharedIndex.forAccount(indexFile: "/etc/shared/index", sharedGroup: "12", mungeNames: false).indexFile == "/etc/shared/index12")
    }

    @Test func resolvesAccountsThroughGroups() throws {
        let scratch = ScratchDirectory()
        writeFile(scratch.path + "/index", "bob\t1\t1\t/home/bob\nsales\t*\tindexsales\n")
        writeFile(scratch.path + "/indexsales", "carol\t1\t1\t/home/carol\nloop\t*\tindexsales\n")
        let index = SharedIndex(indexFile: scratch.path + "/index")
        let bob = index.resolve(["bob", "Sent", "2024"])
        #expect(bob?.location.maildir == "/home/bob/Maildir" && bob?.rest == ["Sent", "2024"])
        #expect(bob?.location.owner == "vendor=courier.internal")
        let carol = index.resolve(["sales", "carol"])
        #expect(carol?.location.prefix == ["sales", "carol"] && carol?.rest == [])
        #expect(carol?.location.owner == "user=sales")
        #expect(index.resolve(["nobody"]) == nil)
        #expect(index.resolve(Array(repeating: "loop", count: 20)) == nil)
        // A group that lists itself stops at the depth limit.
        #expect(index.accounts().map { $0.prefix.joined(separator: ".") }.prefix(3) == ["bob", "sales.carol", "sales.loop.carol"])
    }
}

@Suite struct SharableMaildirsTests {
    @Test func subscribeSyncAndUnsubscribe() throws {
        let scratch = ScratchDirectory()
        let user = Maildir(path: try scratch.maildir("user"))
        let sharablePath = try scratch.maildir("S1")
        let notes = try FolderName("notes")
        try Maildir(path: sharablePath).createFolder(notes)
        writeFile(user.path + "/shared-maildirs", "# linked\npub\t\(sharablePath)\nbad.nick\t/x\nprivate\t\(user.path)\n")
        let sharable = SharableMaildirs(maildir: user, systemFile: nil)
        // Private (0700) maildirs are never sharable: not the sharable one until it is opened up.
        #expect(sharable.entries().isEmpty)
        _ = chmod(sharablePath, 0o755)
        _ = chmod(sharablePath + "/.notes", 0o755)
        #expect(sharable.entries().map(\.nick) == ["pub"])
        try sharable.subscribe(nick: "pub", folder: notes)
        let local = user.path + "/shared-folders/pub/notes"
        #expect(names(local) == ["cur", "new", "shared", "tmp"])
        writeFile(sharablePath + "/.notes/new/100.M1P1.h", "Subject: a\n\nx\n")
        writeFile(sharablePath + "/.notes/cur/200.M1P1.h:2,S", "Subject: b\n\nx\n")
        sharable.sync(nick: "pub", folder: notes)
        #expect(names(sharablePath + "/.notes/cur") == ["100.M1P1.h:2,", "200.M1P1.h:2,S"])
        #expect(names(local + "/new") == ["100.M1P1.h", "200.M1P1.h"])
        // A local copy with the user's flags stays; one whose original went is removed.
        _ = rename(local + "/new/100.M1P1.h", local + "/cur/100.M1P1.h:2,F")
        _ = unlink(sharablePath + "/.notes/cur/200.M1P1.h:2,S")
        sharable.sync(nick: "pub", folder: notes)
        #expect(names(local + "/cur") == ["100.M1P1.h:2,F"])
        #expect(names(local + "/new").isEmpty)
        #expect(readText(local + "/cur/100.M1P1.h:2,F") == "Subject: a\n\nx\n")
        try sharable.unsubscribe(nick: "pub", folder: notes)
        #expect(!sharable.isSubscribed(nick: "pub", folder: notes))
        #expect(names(sharablePath + "/.notes/cur") == ["100.M1P1.h:2,"])
    }
}
