/// Size limits enforced by the HTTP/1.1 head parsers and the body framer.
///
/// Limits are enforced while a head is still incomplete, so a peer cannot make the proxy
/// buffer more than `maxHeadSize` bytes by never finishing its head.
public struct HTTPParserLimits: Hashable, Sendable {
    /// Maximum bytes of a message head, counted from the first byte given to the parser
    /// (including skipped leading empty lines) up to and including the final CRLFCRLF.
    /// Exceeding it fails with 431. Default: 64 KiB.
    public var maxHeadSize: Int
    /// Maximum length of the request-target. Exceeding it fails with 414. Default: 8 KiB.
    public var maxRequestTargetLength: Int
    /// Maximum number of header field lines. Exceeding it fails with 431. Default: 100.
    public var maxHeaderCount: Int
    /// Maximum length of a chunk-size line (size, extensions and CRLF). Exceeding it fails
    /// with 400. Default: 4 KiB.
    public var maxChunkSizeLineLength: Int
    /// Maximum total bytes of the trailer section of a chunked body (field lines and the
    /// final CRLF). Exceeding it fails with 431. Default: 16 KiB.
    public var maxTrailerSize: Int

    public init(
        maxHeadSize: Int = 64 * 1024,
        maxRequestTargetLength: Int = 8 * 1024,
        maxHeaderCount: Int = 100,
        maxChunkSizeLineLength: Int = 4 * 1024,
        maxTrailerSize: Int = 16 * 1024
    ) {
        self.maxHeadSize = maxHeadSize
        self.maxRequestTargetLength = maxRequestTargetLength
        self.maxHeaderCount = maxHeaderCount
        self.maxChunkSizeLineLength = maxChunkSizeLineLength
        self.maxTrailerSize = maxTrailerSize
    }

    /// 64 KiB heads, 8 KiB targets, 100 header fields, 4 KiB chunk-size lines, 16 KiB trailers.
    public static var defaults: HTTPParserLimits { HTTPParserLimits() }
}
