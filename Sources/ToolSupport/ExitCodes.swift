/// Exit codes of the mail tools, as sysexits.h and Courier's tools use them (DESIGN.md "Errors").
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let usage: Int32 = 64
    public static let dataError: Int32 = 65
    public static let noInput: Int32 = 66
    public static let noUser: Int32 = 67
    public static let software: Int32 = 70
    public static let ioError: Int32 = 74
    /// EX_TEMPFAIL: the caller (the MTA) keeps the message and retries.
    public static let tempFail: Int32 = 75
    public static let noPermission: Int32 = 77
}
