import FulcrumConfig

/// A compiled ``JWTMatch``: a condition on one claim of a bearer token.
///
/// Without `verification` the signature is not checked: that is for routing,
/// never for access control. With it, a token whose claim would take the
/// request but that is not genuine and current (``JWTVerifier``) refuses the
/// request (a 401) when the route's other conditions hold, rather than
/// letting it fall through to a later route. A request without a token, or
/// with a token whose claim does not match, is not refused: the route does
/// not match it, as below, so a route meant to require a token must be the
/// last one its requests can reach (no `default_cluster` behind it).
///
/// The claim's value is compared as text: a string unescaped, a number as
/// written in the token (`42`, `4.2e1`), `true` or `false`. Then:
/// - No token (the header is absent or not `Bearer`), a `null` claim, or a
///   missing claim: the claim is absent, so only `present: false` holds.
/// - An object or array claim: `present: true` holds; exact, prefix and regex
///   do not.
/// - An unreadable token (``BearerToken/invalid``, or a payload that is not
///   one strict JSON object): the condition never holds, not even
///   `present: false`, so a garbled token never routes as if it said anything.
struct JWTCondition: Sendable {
    let header: String
    let claim: String
    let condition: ValueCondition
    let verifier: JWTVerifier?

    /// What the condition says of one request.
    enum Outcome: Equatable {
        case holds
        case fails
        /// The token is present but not genuine or not current.
        case refused(JWTVerifier.Failure)
    }

    init(
        _ match: JWTMatch,
        what: @autoclosure () -> String,
        now: @escaping @Sendable () -> Double = JWTVerifier.systemNow
    ) throws(RouterError) {
        verifier = try match.verification.map { (verification) throws(RouterError) in
            try JWTVerifier(verification, what: what(), now: now)
        }
        header = match.header
        claim = match.claim
        condition = try ValueCondition(match.value, what: what() + ": jwt claim \(match.claim)")
    }

    /// - Parameter token: the request's token in ``header``, decoded once per
    ///   request and shared by every JWT condition on that header.
    /// - Complexity: O(n) in the payload's length.
    func evaluate(_ token: BearerToken) -> Outcome {
        let value: ClaimValue
        switch token {
        case .none:
            value = .absent
        case .invalid:
            return .fails
        case .token(let jws):
            guard let found = JSONClaimScanner.claim(claim, in: jws.payload) else { return .fails }
            // The claim first, the signature only if it would route here: a
            // token meant for another route (signed with its key) is not
            // refused by this one, and a request costs one check at most
            // per route it would take.
            guard holds(for: found) else { return .fails }
            if let verifier, let failure = verifier.check(jws) { return .refused(failure) }
            return .holds
        }
        return holds(for: value) ? .holds : .fails
    }

    private func holds(for value: ClaimValue) -> Bool {
        switch value {
        case .text(let text):
            return condition.holds(for: text)
        case .absent:
            return condition.holds(for: nil as Substring?)
        case .nonText:
            if case .present(let present) = condition { return present }
            return false
        }
    }
}
