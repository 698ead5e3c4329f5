/// `userdbpw [-md5 | -hmac-md5 | -hmac-sha1 | -hmac-sha256]` (spec/access.md §4.4): reads a
/// password (twice, with echo off, from a terminal; else one line of standard input) and prints
/// its stored form. Without options: traditional DES crypt, as Courier's userdbpw.
/// Our additions: `-sha256`, `-sha512`, `-yescrypt` (crypt `$5$`, `$6$`, `$y$`) and `-ldap-md5`,
/// `-ldap-sha`, `-ldap-ssha`, `-ldap-sha256`, `-ldap-sha512` (`{MD5}` …).
public enum Userdbpw {
    static let options: [String: PasswordMaker.Method] = [
        "-md5": .md5crypt, "-sha256": .sha256crypt, "-sha512": .sha512crypt, "-yescrypt": .yescrypt,
        "-hmac-md5": .hmacMD5, "-hmac-sha1": .hmacSHA1, "-hmac-sha256": .hmacSHA256,
        "-ldap-md5": .ldapMD5, "-ldap-sha": .ldapSHA1, "-ldap-ssha": .ldapSSHA1,
        "-ldap-sha256": .ldapSHA256, "-ldap-sha512": .ldapSHA512,
    ]

    public static func run(_ arguments: [String], io: ToolIO) -> Int32 {
        var method = PasswordMaker.Method.des
        for argument in arguments.dropFirst() {
            guard let chosen = options[argument] else {
                io.printError("\(arguments.first ?? "userdbpw"): invalid argument.")
                return 1
            }
            method = chosen
        }
        guard let password = io.readSecret("Password: ") else { return 1 }
        if io.standardInputIsTerminal {
            guard let again = io.readSecret("Reenter password: "), again == password else {
                io.printError("Passwords don't match.")
                return 1
            }
        }
        do {
            io.print(try PasswordMaker.make(password, method: method))
            return 0
        } catch {
            io.printError("userdbpw: \(error)")
            return 1
        }
    }
}
