import Logging
import MailConfig
import ServiceLifecycle

/// CourierDaemon: wiring of listeners and services under swift-service-lifecycle.
public enum CourierDaemonInfo {
    public static let name = "courier"
}
