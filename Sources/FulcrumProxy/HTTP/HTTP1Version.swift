/// The two HTTP/1 versions the proxy speaks. Other versions are rejected with 505.
public enum HTTP1Version: Hashable, Sendable {
    case http1_0
    case http1_1
}
