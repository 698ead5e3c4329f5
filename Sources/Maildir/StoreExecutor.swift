import MaildirCore
import NIOPosix

/// Runs the store's blocking file-system work on a thread pool, never on the caller's event
/// loop (DESIGN.md "Concurrency"), and turns every failure into a `MailStoreError`.
struct StoreExecutor: Sendable {
    let pool: NIOThreadPool

    func run<T: Sendable>(_ body: @escaping @Sendable () throws(MailStoreError) -> T) async throws(MailStoreError) -> T {
        do {
            return try await pool.runIfActive { () throws -> T in try body() }
        } catch let error as MailStoreError {
            throw error
        } catch let error as MaildirError {
            throw MailStoreError(error)
        } catch {
            throw .shutDown
        }
    }
}

extension MailStoreError {
    /// Runs MaildirCore code, mapping its error.
    static func wrap<T>(_ body: () throws(MaildirError) -> T) throws(MailStoreError) -> T {
        do { return try body() } catch { throw MailStoreError(error) }
    }
}
