/// The version of Courier for Swift, shown by `courier --version` and in banners.
public enum CourierVersion {
    public static let number = "0.1.0"
    /// `courier (Courier for Swift) 0.1.0`
    public static let banner = "courier (Courier for Swift) \(number)"
}
