import CourierDaemon
import MailQueue
import POP3Server
import SMTPServer

extension ServiceRegistry {
    /// The services `courier start` and `courier demo` run. The daemon module cannot see the
    /// protocol servers (they depend on it), so the executable registers them here.
    /// Every service of this build; receivers hand mail to `queue`, which the queue runner opens.
    static func courier(queue: SharedQueue) -> ServiceRegistry {
        ServiceRegistry([
            SMTPListenerPlugin(queue: queue),
            POP3ListenerPlugin(),
        ])
    }
}
