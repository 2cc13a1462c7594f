extension FulcrumConfiguration {
    /// One line for `fulcrum validate`, such as
    /// `1 listener, 3 routes, 2 clusters, 6 backends`.
    public var summary: String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return [
            count(listeners.count, "listener"),
            count(routes.count, "route"),
            count(clusters.count, "cluster"),
            count(clusters.reduce(0) { $0 + $1.backends.count }, "backend"),
        ].joined(separator: ", ")
    }
}
