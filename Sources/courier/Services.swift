import CourierDaemon
import IMAPServer
import MailQueue
import MetricsServer
import POP3Server
import SMTPServer

extension ServiceRegistry {
    /// The services `courier start` and `courier demo` run. The daemon module cannot see the
    /// protocol servers (they depend on it), so the executable registers them here.
    /// Every service of this build; receivers hand mail to `queue`, which the queue runner opens.
    static func courier(queue: SharedQueue) -> ServiceRegistry {
        // swift-metrics goes to the Prometheus registry before any counter is made.
        _ = CourierMetrics.registry
        return ServiceRegistry([
            SMTPListenerPlugin(queue: queue),
            IMAPListenerPlugin(),
            MetricsListenerPlugin(),
            POP3ListenerPlugin(),
        ])
    }
}
