/// SMTPServer: see ../shared/DESIGN.md (modules).
public enum SMTPServerInfo {
    public static let name = "SMTPServer"
}
