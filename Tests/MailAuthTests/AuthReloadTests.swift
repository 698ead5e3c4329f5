import Glibc
import MailConfig
import Synchronization
import Testing
@testable import MailAuth
@testable import MailAuthCore

private final class Generation: Sendable {
    let value = Mutex(0)
    func bump() { value.withLock { $0 += 1 } }
}

private func found(_ result: AuthResult) -> Bool {
    if case .success = result { return true }
    return false
}

@Test func chainFollowsReloadsAndKeepsTheOldOneWhenTheNewIsBad() async throws {
    let directory = temporaryDirectory()
    mkdir(directory + "/etc", 0o755)
    let root = ConfigRoot(path: directory)
    writeFile(root.etc("authdaemonrc"), "authmodulelist=\"authuserdb\"\n")
    writeFile(root.etc("userdb"), "alice\tuid=8|gid=8|home=/h/alice|systempw={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")
    _ = try UserdbCompiler.make(UserdbPaths(source: root.etc("userdb")))
    let generation = Generation()
    let chain = try AuthConfiguration.liveChain(root: root, logger: .init(label: "test"),
                                                generation: { generation.value.withLock { $0 } })
    #expect(found(await chain.lookup(user: "alice", service: "imap")))
    #expect(!found(await chain.lookup(user: "bob", service: "imap")))

    // A new account in the text file: not seen until the reload (userdb.dat is what counts) ...
    writeFile(root.etc("userdb"), "alice\tuid=8|gid=8|home=/h/alice\nbad line\nbob\tuid=8|gid=8|home=/h/bob\n")
    #expect(!found(await chain.lookup(user: "bob", service: "imap")))
    // ... then recompiled, the bad line skipped.
    generation.bump()
    #expect(found(await chain.lookup(user: "bob", service: "imap")))
    #expect(found(await chain.lookup(user: "alice", service: "imap")))

    // DEFAULTOPTIONS change with the reload.
    writeFile(root.etc("authdaemonrc"), "authmodulelist=\"authuserdb\"\nDEFAULTOPTIONS=\"disableimap=1\"\n")
    generation.bump()
    #expect(chain.defaultOptions.text == "disableimap=1")

    // A module we do not have: logged, the previous chain stays.
    writeFile(root.etc("authdaemonrc"), "authmodulelist=\"authuserdb authldap\"\n")
    generation.bump()
    #expect(chain.modules.map(\.name) == ["authuserdb"])
    #expect(found(await chain.lookup(user: "bob", service: "imap")))

    // No modules at all: nobody logs in after the reload.
    writeFile(root.etc("authdaemonrc"), "authmodulelist=\"\"\n")
    generation.bump()
    #expect(chain.modules.isEmpty)
    #expect(!found(await chain.lookup(user: "alice", service: "imap")))
}

/// The authdaemon socket answers PRE/AUTH on its event loop only while the chain `isReady`:
/// not the first request after a reload (it rebuilds the chain: file reads, maybe makeuserdb),
/// nor one that would first map the userdb, or compile its text when there is no userdb.dat.
@Test func chainSaysWhenTheNextUseReadsFiles() async throws {
    let directory = temporaryDirectory()
    mkdir(directory + "/etc", 0o755)
    let root = ConfigRoot(path: directory)
    writeFile(root.etc("authdaemonrc"), "authmodulelist=\"authuserdb\"\n")
    writeFile(root.etc("userdb"), "alice\tuid=8|gid=8|home=/h/alice\n")
    _ = try UserdbCompiler.make(UserdbPaths(source: root.etc("userdb")))
    let generation = Generation()
    let chain = try AuthConfiguration.liveChain(root: root, logger: .init(label: "test"),
                                                generation: { generation.value.withLock { $0 } })
    #expect(!chain.isReady)   // userdb.dat not mapped yet
    #expect(found(await chain.lookup(user: "alice", service: "imap")))
    #expect(chain.isReady)
    generation.bump()
    #expect(!chain.isReady)
    #expect(found(await chain.lookup(user: "alice", service: "imap")))
    #expect(chain.isReady)
    #expect(AuthChain(modules: []).isReady)

    // No userdb.dat: every change of the text means compiling it, so never ready.
    let textOnly = directory + "/textonly"
    writeFile(textOnly, "bob\tuid=8|gid=8|home=/h/bob\n")
    let module = UserdbModule(source: textOnly)
    #expect(try module.store.lookup("bob") != nil)
    #expect(!module.isReady)
}

@Test func daemonsSettingIsReadAndChecked() throws {
    let directory = temporaryDirectory()
    mkdir(directory + "/etc", 0o755)
    let root = ConfigRoot(path: directory)
    #expect(try AuthConfiguration.load(root: root).workers == 5)
    writeFile(root.etc("authdaemonrc"), "daemons=2\n")
    #expect(try AuthConfiguration.load(root: root).workers == 2)
    writeFile(root.etc("authdaemonrc"), "daemons=0\n")
    #expect(throws: ConfigError.self) { try AuthConfiguration.load(root: root) }
}

private final class Concurrency: Sendable {
    let state = Mutex((now: 0, most: 0, done: 0))
    func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
    func leave() { state.withLock { $0.now -= 1; $0.done += 1 } }
}

@Test func workerPoolRunsAtMostItsLimitAtOnce() async {
    let pool = AuthWorkerPool(limit: 2)
    let seen = Concurrency()
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<12 {
            group.addTask {
                await pool.run {
                    seen.enter()
                    for _ in 0..<20 { await Task.yield() }
                    seen.leave()
                }
            }
        }
    }
    let result = seen.state.withLock { $0 }
    #expect(result.most <= 2 && result.most >= 1)
    #expect(result.done == 12)
    #expect(pool.busy == 0)
}
