import Synchronization

/// What a ``DemoBackend`` reports about its own health, and how much traffic
/// it has served, shared by all its connections and changeable while it
/// serves: scripts and tests make a backend that still answers requests fail
/// its checks (the reliability scenarios "/health turns to 500" and "the
/// database fails") and then see whether traffic still reaches it.
public final class DemoBackendState: Sendable {
    private let served = Atomic<Int>(0)
    private let state = Mutex<(status: Int, dependencies: [(key: String, status: String)])>(
        (200, [("db:connection", "pass"), ("cache:ping", "pass")])
    )

    private let agent = Mutex<String>("up 100%")

    public init() {}

    /// What the backend's agent (``DemoAgent``) answers, an HAProxy
    /// agent-check reply such as `up 100%`, `drain` or `down #disk full`.
    public var agentReply: String {
        get { agent.withLock { $0 } }
        set { agent.withLock { $0 = newValue } }
    }

    /// Requests answered, apart from `/health…` and `/admin…` pages.
    public var requestsServed: Int { served.load(ordering: .relaxed) }

    func countRequest() { served.add(1, ordering: .relaxed) }

    /// The status `/health` answers with. Default 200.
    public var status: Int {
        get { state.withLock { $0.status } }
        set { state.withLock { $0.status = newValue } }
    }

    /// Sets a dependency's status (`pass`, `warn` or `fail`) in `/health/deep`,
    /// adding the dependency when it is new.
    public func setDependency(_ key: String, _ status: String) {
        state.withLock { state in
            if let i = state.dependencies.firstIndex(where: { $0.key == key }) {
                state.dependencies[i].status = status
            } else {
                state.dependencies.append((key, status))
            }
        }
    }

    /// `/health/deep`: an `application/health+json` document whose overall
    /// status is its worst dependency's, with 503 when that is `fail` (as
    /// the format's draft suggests) and 200 otherwise.
    public var document: (status: Int, body: String) {
        let dependencies = state.withLock { $0.dependencies }
        let statuses = dependencies.map(\.status)
        let overall = statuses.contains("fail") ? "fail" : statuses.contains("warn") ? "warn" : "pass"
        let checks = dependencies.map { "\"\($0.key)\":[{\"status\":\"\($0.status)\"}]" }.joined(separator: ",")
        return (overall == "fail" ? 503 : 200, "{\"status\":\"\(overall)\",\"checks\":{\(checks)}}\n")
    }
}
