import CourierDaemon
import SMTPServer

extension ServiceRegistry {
    /// The services `courier start` and `courier demo` run. The daemon module cannot see the
    /// protocol servers (they depend on it), so the executable registers them here.
    static let courier = ServiceRegistry([
        SMTPListenerPlugin(),
    ])
}
