import Metrics
import Prometheus

/// The process' metrics backend: swift-metrics counters from every module (SMTP sessions,
/// accepted, delivered, deferred and bounced messages, AUTH failures…) land in one Prometheus
/// registry, which the `metrics` listener serves. Bootstrapped once, before any counter is used.
public enum CourierMetrics {
    /// The registry; the first use bootstraps swift-metrics with it (exactly once per process).
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
