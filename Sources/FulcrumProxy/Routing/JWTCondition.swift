import FulcrumConfig

/// A compiled ``JWTMatch``: a condition on one claim of a bearer token,
/// matched without verifying the signature (for routing, never for access
/// control; ``Router`` refuses routes that ask for verification until it is
/// implemented).
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

    init(_ match: JWTMatch, what: @autoclosure () -> String) throws(RouterError) {
        if let verification = match.verification {
            let keys = [
                verification.hs256Secret == nil ? nil : "hs256_secret",
                verification.rs256PublicKeyFile == nil ? nil : "rs256_public_key_file",
            ].compactMap { $0 }.joined(separator: " and ")
            throw RouterError(
                code: .unsupported,
                message: "\(what()): JWT signature verification (\(keys)) is not available yet; "
                    + "remove 'verification' to route on unverified claims, which is for routing only"
            )
        }
        header = match.header
        claim = match.claim
        condition = try ValueCondition(match.value, what: what() + ": jwt claim \(match.claim)")
    }

    /// - Parameter token: the request's token in ``header``, decoded once per
    ///   request and shared by every JWT condition on that header.
    /// - Complexity: O(n) in the payload's length.
    func holds(for token: BearerToken) -> Bool {
        let value: ClaimValue
        switch token {
        case .none:
            value = .absent
        case .invalid:
            return false
        case .payload(let json):
            guard let found = JSONClaimScanner.claim(claim, in: json) else { return false }
            value = found
        }
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
