/// MailConfig: the config root, Courier's control files and `VAR=value` files.
public enum MailConfigInfo {
    public static let defaultRoot = "/usr/lib/courier"
}
