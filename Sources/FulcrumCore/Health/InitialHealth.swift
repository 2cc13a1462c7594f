/// What a backend's health is before its first active check.
///
/// The choice matters at startup and whenever a backend is added: `up`
/// avoids an empty pool while checks warm up but sends traffic to a backend
/// nobody has looked at; `down` is the careful extreme; `firstCheck` (the
/// configuration's default) waits for one check and trusts its verdict, as
/// Envoy does for new hosts, so a healthy fleet serves within one interval
/// and a broken backend never gets a request.
public enum InitialHealth: String, Sendable, Hashable, CaseIterable {
    /// Up before any check (HAProxy's behaviour).
    case up
    /// Down until `rise` checks in a row pass.
    case down
    /// Down until the first check: a pass brings the backend up at once, a
    /// failure leaves it down to rise as usual.
    case firstCheck = "first_check"
}
