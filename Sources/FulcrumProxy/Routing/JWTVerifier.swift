import Crypto
import FulcrumConfig
import _CryptoExtras

#if canImport(Glibc)
import Glibc
#endif

/// Checks a bearer token for a route whose JWT match asks for verification:
/// its signature, by the algorithm its header names (HS256 with the shared
/// secret, RS256 with the RSA public key; any other, `none` included, is
/// refused, so a token cannot pick a weaker check), and its time claims
/// (`exp` must be in the future, `nbf` not, each when present; no leeway).
struct JWTVerifier: Sendable {
    /// The HS256 secret's bytes (swift-crypto's `SymmetricKey` is not
    /// `Sendable`, so the key is made per check).
    private let hs256: [UInt8]?
    private let rs256: _RSA.Signing.PublicKey?
    /// Seconds since 1970, read per check; tests pass a fixed clock.
    private let now: @Sendable () -> Double

    /// Why a token was refused, as the 401's log line gives it.
    enum Failure: Error, Equatable, CustomStringConvertible {
        case unreadable
        case algorithm(String)
        case signature
        case expired
        case notYetValid

        var description: String {
            switch self {
            case .unreadable: "the bearer token is not a readable JWT"
            case .algorithm(let name): "the token's algorithm \(JWTVerifier.printable(name)) is not one this route verifies"
            case .signature: "the token's signature does not verify"
            case .expired: "the token has expired (exp)"
            case .notYetValid: "the token is not valid yet (nbf)"
            }
        }
    }

    /// A token's own text, fit for a log line: short names as sent, anything
    /// else (control characters, kilobytes) not at all.
    fileprivate static func printable(_ name: String) -> String {
        let plain = name.utf8.count <= 16 && name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        return plain ? name : "(not shown)"
    }

    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
    static let minimumSecretBytes = 32

    init(
        _ verification: JWTVerification,
        what: @autoclosure () -> String,
        now: @escaping @Sendable () -> Double = JWTVerifier.systemNow
    ) throws(RouterError) {
        if let secret = verification.hs256Secret, secret.utf8.count < Self.minimumSecretBytes {
            throw RouterError(
                code: .unsupported,
                message: "\(what()): hs256_secret has \(secret.utf8.count) bytes; HS256 needs at least \(Self.minimumSecretBytes) (RFC 7518 §3.2)"
            )
        }
        hs256 = verification.hs256Secret.map { Array($0.utf8) }
        if let pem = verification.rs256PublicKeyPEM {
            // The key is taken apart here and handed over as its modulus and
            // exponent: swift-crypto 3.12's PEM and DER initialisers free
            // the key twice when BoringSSL refuses the bytes, which aborts
            // the process (seen in this project's tests).
            guard let (modulus, exponent) = RSAPublicKeyDER.parse(pem: pem), RSAPublicKeyDER.bits(of: modulus) >= 2048,
                let key = try? _RSA.Signing.PublicKey(n: modulus, e: exponent)
            else {
                throw RouterError(
                    code: .unsupported,
                    message: "\(what()): rs256_public_key_file \(verification.rs256PublicKeyFile ?? "-"): "
                        + "not an RSA public key of 2048 bits or more"
                )
            }
            rs256 = key
        } else if let file = verification.rs256PublicKeyFile {
            throw RouterError(code: .unsupported, message: "\(what()): rs256_public_key_file \(file) was not read")
        } else {
            rs256 = nil
        }
        self.now = now
    }

    @Sendable static func systemNow() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Nil when `token` is genuine and current.
    func check(_ token: BearerToken.JWS) -> Failure? {
        guard case .text(let algorithm)? = JSONClaimScanner.claim("alg", in: token.header) else { return .unreadable }
        guard let signature = Base64URL.decode(token.signature) else { return .unreadable }
        switch algorithm {
        case "HS256":
            guard let hs256 else { return .algorithm(algorithm) }
            let key = SymmetricKey(data: hs256)
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: token.signingInput, using: key) else {
                return .signature
            }
        case "RS256":
            guard let rs256 else { return .algorithm(algorithm) }
            let valid = rs256.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: token.signingInput,
                padding: .insecurePKCS1v1_5
            )
            guard valid else { return .signature }
        default:
            return .algorithm(algorithm)
        }
        let current = now()
        if let expiry = Self.number("exp", in: token.payload) {
            guard let expiry, current < expiry else { return .expired }
        }
        if let notBefore = Self.number("nbf", in: token.payload) {
            guard let notBefore, current >= notBefore else { return .notYetValid }
        }
        return nil
    }

    /// A time claim: nil when absent, `.some(nil)` when it is not a plain
    /// finite number, or the payload not one valid object (a repeated claim
    /// among them), either of which fails the check.
    private static func number(_ name: String, in payload: [UInt8]) -> Double?? {
        switch JSONClaimScanner.claim(name, in: payload) {
        case .text(let text)?:
            let plain = !text.isEmpty && text.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            }
            guard plain, let value = Double(text), value.isFinite else { return .some(nil) }
            return .some(value)
        case .nonText?, nil: return .some(nil)
        case .absent?: return nil
        }
    }
}

/// Reads an RSA public key's modulus and exponent from PEM: a SubjectPublicKeyInfo
/// (`BEGIN PUBLIC KEY`, RFC 5280) or a PKCS #1 RSAPublicKey (`BEGIN RSA PUBLIC
/// KEY`, RFC 8017), in strict DER.
enum RSAPublicKeyDER {
    /// The rsaEncryption object identifier, 1.2.840.113549.1.1.1, as DER content.
    private static let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]

    static func parse(pem: String) -> (modulus: [UInt8], exponent: [UInt8])? {
        var body: [UInt8] = []
        var inside = false
        for line in pem.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("-----BEGIN ") {
                inside = true
            } else if line.hasPrefix("-----END ") {
                break
            } else if inside {
                for byte in line.utf8 where byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                    switch byte {
                    case UInt8(ascii: "+"): body.append(UInt8(ascii: "-"))
                    case UInt8(ascii: "/"): body.append(UInt8(ascii: "_"))
                    case UInt8(ascii: "="): break
                    default: body.append(byte)
                    }
                }
            }
        }
        guard let der = Base64URL.decode(body) else { return nil }
        return parse(der: der)
    }

    static func parse(der: [UInt8]) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard let outer = element(der, at: 0, tag: 0x30), outer.end == der.count else { return nil }
        // SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING }.
        if let algorithm = element(der, at: outer.start, tag: 0x30) {
            guard let oid = element(der, at: algorithm.start, tag: 0x06), Array(der[oid.start..<oid.end]) == rsaEncryption,
                let bits = element(der, at: algorithm.end, tag: 0x03), bits.end == outer.end,
                bits.end > bits.start, der[bits.start] == 0
            else { return nil }
            return pkcs1(Array(der[(bits.start + 1)..<bits.end]))
        }
        return pkcs1(der)
    }

    /// RSAPublicKey: SEQUENCE { INTEGER modulus, INTEGER publicExponent }.
    private static func pkcs1(_ der: [UInt8]) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard let sequence = element(der, at: 0, tag: 0x30), sequence.end == der.count,
            let modulus = element(der, at: sequence.start, tag: 0x02),
            let exponent = element(der, at: modulus.end, tag: 0x02), exponent.end == sequence.end,
            modulus.end > modulus.start, exponent.end > exponent.start,
            der[modulus.start] & 0x80 == 0, der[exponent.start] & 0x80 == 0
        else { return nil }
        return (Array(der[modulus.start..<modulus.end]), Array(der[exponent.start..<exponent.end]))
    }

    /// The content range of the DER element with `tag` at `offset`.
    private static func element(_ der: [UInt8], at offset: Int, tag: UInt8) -> (start: Int, end: Int)? {
        guard offset + 2 <= der.count, der[offset] == tag else { return nil }
        var index = offset + 2
        var length = Int(der[offset + 1])
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 3, index + count <= der.count else { return nil }
            length = 0
            for byte in der[index..<(index + count)] { length = length << 8 | Int(byte) }
            index += count
        }
        guard index + length <= der.count else { return nil }
        return (index, index + length)
    }

    /// The bit length of a big-endian unsigned integer.
    static func bits(of integer: [UInt8]) -> Int {
        guard let first = integer.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (integer.count - first - 1) * 8 + (8 - integer[first].leadingZeroBitCount)
    }
}
