import MailAuth
import MailAuthCore
import ToolSupport

/// The account tools of courier-authlib, run in-process with Courier's own option syntax
/// (`userdbpw -md5`, `userdb name set field=value`, `authtest user password`); they work on
/// `$COURIER_ROOT/etc/userdb` (DESIGN.md "The config root").
enum AuthTools {
    static let all: [ToolEntry] = [
        ToolEntry(name: "makeuserdb", summary: "compile etc/userdb into userdb.dat and userdbshadow.dat") {
            Makeuserdb.run($0, io: .process())
        },
        ToolEntry(name: "userdb", summary: "add, change, remove or show accounts in etc/userdb") {
            UserdbCommand.run($0, io: .process())
        },
        ToolEntry(name: "userdbpw", summary: "hash a password for userdb (-md5, -sha512, -hmac-md5, ...)") {
            Userdbpw.run($0, io: .process())
        },
        ToolEntry(name: "pw2userdb", summary: "convert /etc/passwd and /etc/shadow to userdb lines") {
            Pw2userdb.run($0, io: .process())
        },
        ToolEntry(name: "authtest", summary: "check an account and password through the configured auth modules") {
            Authtest.runBlocking($0, io: .process())
        },
        ToolEntry(name: "authenumerate", summary: "list every account (asks the running daemon's authdaemon socket)") {
            Authenumerate.run($0, io: .process())
        },
    ]
}
