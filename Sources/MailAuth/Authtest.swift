import Dispatch
import Logging
import MailAuthCore
import MailConfig

/// `authtest [-s service] userid [password [newpassword]]` (spec/access.md §4.5): checks an
/// account through the configured module chain of `$COURIER_ROOT/etc/authdaemonrc` and prints
/// Courier's report. Without a password it only looks the account up. Exit 0 on success, 1 when
/// rejected, 75 (EX_TEMPFAIL) when a module could not answer (Courier's authtest exits 1 there too;
/// the message says which it was).
public enum Authtest {
    public static let usage = "Usage: authtest [-s service] userid [ password [ newpassword ] ]"

    /// Runs in a synchronous context (the multi-call dispatcher): waits for the async work.
    public static func runBlocking(_ arguments: [String], io: ToolIO) -> Int32 {
        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        let sendableIO = UncheckedBox(io)
        Task.detached {
            box.status = await run(arguments, io: sendableIO.value)
            semaphore.signal()
        }
        semaphore.wait()
        return box.status
    }

    public static func run(_ arguments: [String], io: ToolIO, chain givenChain: AuthChain? = nil) async -> Int32 {
        // As Courier's authtest: `-s service` or `-sservice`; any other argument that starts
        // with `-` (`--` too) is a usage error. Arguments after newpassword are ignored.
        var rest = arguments.dropFirst()[...]
        var service = "login"
        while let first = rest.first, first.hasPrefix("-"), first != "-" {
            rest = rest.dropFirst()
            guard first.hasPrefix("-s") else { io.printError(usage); return 1 }
            if first.count > 2 {
                service = String(first.dropFirst(2))
            } else {
                guard let given = rest.popFirst() else { io.printError(usage); return 1 }
                service = given
            }
        }
        guard let user = rest.popFirst() else {
            io.printError(usage)
            return 1
        }
        let password = rest.popFirst()
        let newPassword = rest.popFirst()
        let chain: AuthChain
        if let givenChain {
            chain = givenChain
        } else {
            do {
                var logger = Logger(label: "courier.authtest")
                logger.logLevel = .critical   // the outcome line says what went wrong
                chain = try AuthConfiguration.load(root: io.root).makeChain(logger: logger)
            } catch {
                io.printError("authtest: \(error)")
                return 1
            }
        }
        let result: AuthResult
        if let password {
            result = await chain.authenticate(.password(user: user, password: Array(password.utf8)), service: service)
        } else {
            result = await chain.lookup(user: user, service: service)
        }
        switch result {
        case .success(let account):
            // A password change reports only its own outcome, as Courier's authtest does.
            if newPassword == nil {
                io.print("Authentication succeeded.\n")
                io.write(Array(account.authtestReport.utf8), fd: 1)
            }
        case .rejected:
            io.printError("Authentication FAILED: Operation not permitted")
            return 1
        case .temporaryFailure(let reason):
            io.printError("Authentication FAILED: Resource temporarily unavailable (\(reason))")
            return 75
        }
        guard let newPassword else { return 0 }
        do {
            if try await chain.changePassword(user: user, newPassword: Array(newPassword.utf8), service: service) {
                io.printError("Password change succeeded.")   // Courier's authtest writes it to stderr
                return 0
            }
        } catch {
            io.printError("Password change failed: \(error)")
            return 1
        }
        io.printError("Password change failed.")
        return 1
    }
}

/// The exit status handed from the detached task to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    // Written once by the task before the semaphore is signalled, read after the wait.
    var status: Int32 = 1
}

/// Carries a non-Sendable value into a task that is the only user while the caller waits.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
