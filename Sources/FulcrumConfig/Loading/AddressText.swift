import FulcrumCore

/// Host names and IP addresses as written in the configuration.
enum AddressText {
    static let portRange = 1...65535

    /// An IPv4 address in dotted-quad form.
    static func isIPv4(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
            }
    }

    /// An IPv6 address without brackets: hex groups, at most one `::`, an
    /// optional trailing IPv4 part and an optional `%zone`.
    static func isIPv6(_ text: some StringProtocol) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            guard address.index(after: percent) < address.endIndex else { return false }
            address = address[..<percent]
        }
        guard address.contains(":") else { return false }
        let compressed = address.split(separator: "::", omittingEmptySubsequences: false)
        guard compressed.count <= 2 else { return false }
        var groups = 0
        for (index, half) in compressed.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if index == compressed.count - 1, i == parts.count - 1, part.contains(".") {
                    guard isIPv4(part) else { return false }
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return compressed.count == 2 ? groups < 8 : groups == 8
    }

    /// A DNS name: dot-separated labels of letters, digits and hyphens.
    static func isHostName(_ text: some StringProtocol) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        var name = Substring(text)
        if name.last == "." { name = name.dropLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        } && !(labels.last?.allSatisfy(\.isASCIIDigit) ?? true)
    }

    /// A listener address: IPv4, IPv6 (brackets optional) or a host name.
    /// - Returns: the address without brackets, or `nil`.
    static func listenerAddress(_ text: String) -> String? {
        if text.hasPrefix("[") && text.hasSuffix("]") {
            let inner = String(text.dropFirst().dropLast())
            return isIPv6(inner) ? inner : nil
        }
        return isIPv4(text) || isIPv6(text) || isHostName(text) ? text : nil
    }

    static let backendSyntax =
        "host:port, such as 10.0.0.1:8080 or api.internal:80, with IPv6 in brackets such as [::1]:8080"

    /// `host:port` or `[v6]:port`.
    /// - Returns: the address, or what is wrong with the text.
    static func backendAddress(_ text: String) -> Result<BackendAddress, AddressError> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(.syntax) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { return .failure(.missingPort) }
            portText = rest.dropFirst()
            guard isIPv6(host) else { return .failure(.badHost) }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(.missingPort) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return .failure(.unbracketedIPv6) }
            guard isIPv4(host) || isHostName(host) else { return .failure(.badHost) }
        }
        guard let port = Int(portText), portRange.contains(port), portText.allSatisfy(\.isASCIIDigit) else {
            return .failure(.badPort)
        }
        return .success(BackendAddress(host: String(host), port: port))
    }

    enum AddressError: Error {
        case syntax, missingPort, badHost, badPort, unbracketedIPv6

        var hint: String? {
            switch self {
            case .syntax: nil
            case .missingPort: "add the port, such as :8080"
            case .badHost: "the host is neither an IP address nor a valid host name"
            case .badPort: "ports are whole numbers from 1 to 65535"
            case .unbracketedIPv6: "put IPv6 addresses in brackets, such as [::1]:8080"
            }
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
