#if canImport(Glibc)
import Glibc
#endif
import MailAuthCore
import MailConfig

/// A module that can change a password (authdaemon `PASSWD`, `authtest user old new`).
public protocol PasswordChangingModule: AuthModule {
    /// Stores `newPassword` for `user`; false when the user is not in this module.
    func changePassword(user: String, newPassword: [UInt8], service: String) async throws -> Bool
}

extension UserdbModule: PasswordChangingModule {
    /// Rewrites the account's password field in the userdb text source (the `<service>pw`
    /// field when the account has one, else `systempw`) with a new `$6$` hash, then rebuilds
    /// the databases, as Courier's authuserdb does.
    public func changePassword(user: String, newPassword: [UInt8], service: String) async throws -> Bool {
        let source = store.paths.source
        let parsed = try UserdbCompiler.readSource(source)
        guard let record = parsed.records.first(where: { $0.name == user && !$0.isUidMapping }) else { return false }
        let field = record.fields.contains { $0.0 == service + "pw" } ? service + "pw" : "systempw"
        let hash = try PasswordMaker.make(newPassword, method: .sha512crypt)
        let file = record.file
        let lock = try AuthFiles.Lock(store.paths.lock + ".edit")
        guard let bytes = try AuthFiles.read(file, limit: ConfigLimits.maxUserdbBytes) else { return false }
        let updated = UserdbTextEditor.set(name: user, [(field, hash)], in: bytes)
        let mode = AuthFiles.mode(file).map { mode_t($0 & 0o777) } ?? 0o600
        let directory = file.lastIndex(of: "/").map { String(file[...$0]) } ?? ""
        let base = file.lastIndex(of: "/").map { String(file[file.index(after: $0)...]) } ?? file
        try AuthFiles.replace(file, temporary: directory + ".tmp." + base, bytes: updated, mode: mode)
        _ = consume lock
        _ = try UserdbCompiler.make(store.paths)
        return true
    }
}

extension PgsqlModule: PasswordChangingModule {
    public func changePassword(user: String, newPassword: [UInt8], service: String) async throws -> Bool {
        guard case .found = await lookup(user: user, service: service) else { return false }
        let hash = try PasswordMaker.make(newPassword, method: .sha512crypt)
        try await changePassword(user: user, newPassword: String(decoding: newPassword, as: UTF8.self), newCrypt: hash)
        return true
    }
}

extension AuthChain {
    /// Stores `newPassword` in the first module that holds `user` and can change passwords.
    /// Throws when that module failed; false when no module could.
    public func changePassword(user: String, newPassword: [UInt8], service: String) async throws -> Bool {
        for module in modules {
            guard let changer = module as? any PasswordChangingModule else { continue }
            if try await changer.changePassword(user: user, newPassword: newPassword, service: service) {
                return true
            }
        }
        return false
    }
}
