import CoreMetrics
import FulcrumCore

/// Fulcrum's counters, through swift-metrics, so that any backend (the
/// `fulcrum` command bootstraps Prometheus) can collect them:
///
/// - `fulcrum_http_responses_total{cluster, backend, class}`: responses sent
///   to clients, by status class (`2xx` …); `backend` is `-` for the
///   proxy's own answers (404, 502, 503, 504, parse errors).
/// - `fulcrum_retries_total{cluster}`: requests sent again to another backend.
/// - `fulcrum_http_rejected_total`: requests the parser refused (400, 414,
///   431, 501, 505) before any route or cluster was chosen.
/// - `fulcrum_cluster_events_total{cluster, backend, event}`: every state
///   change a cluster reports (`down`, `up`, `ejected`, `panic` …), whatever
///   caused it; `backend` is empty for cluster-wide events.
///
/// Counters a request touches are made once per listener, not per request.
public final class ProxyMetrics: Sendable {
    let factory: any MetricsFactory
    let rejected: Counter

    /// Counts through `factory`; the default is whatever
    /// `MetricsSystem.bootstrap` installed (nothing, until something did).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        rejected = Counter(label: "fulcrum_http_rejected_total", factory: factory)
    }

    /// Counts every event `cluster` reports from now on.
    public func observe(_ cluster: Cluster) {
        let factory = self.factory
        cluster.addEventObserver { event in
            Counter(
                label: "fulcrum_cluster_events_total",
                dimensions: [("cluster", event.cluster), ("backend", event.backend ?? ""), ("event", event.kind.metricName)],
                factory: factory
            ).increment()
        }
    }

    /// The counters one cluster's requests touch.
    func clusterCounters(_ cluster: Cluster) -> ClusterCounters {
        ClusterCounters(cluster: cluster, factory: factory)
    }
}

/// Response and retry counters of one cluster, made up front.
final class ClusterCounters: Sendable {
    /// `[backend + 1][status / 100 - 1]`; row 0 is the proxy's own answers.
    private let responses: [[Counter]]
    let retries: Counter

    init(cluster: Cluster, factory: any MetricsFactory) {
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]
        responses = (["-"] + cluster.backends.map(\.id)).map { backend in
            classes.map { statusClass in
                Counter(
                    label: "fulcrum_http_responses_total",
                    dimensions: [("cluster", cluster.name), ("backend", backend), ("class", statusClass)],
                    factory: factory
                )
            }
        }
        retries = Counter(label: "fulcrum_retries_total", dimensions: [("cluster", cluster.name)], factory: factory)
    }

    /// Counts one response; `backend` is -1 for the proxy's own.
    func response(status: Int, backend: Int) {
        let statusClass = min(max(status / 100, 1), 5) - 1
        responses[backend + 1][statusClass].increment()
    }
}

extension ClusterEvent.Kind {
    /// `up`, `down`, `slow_start_ended`: the log word as a metric label value.
    var metricName: String { rawValue.lowercased().replacing(" ", with: "_") }
}
