/// SMTP: see ../shared/DESIGN.md (modules).
public enum SMTPInfo {
    public static let name = "SMTP"
}
