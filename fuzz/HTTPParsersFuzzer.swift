// libFuzzer harness for Fulcrum's HTTP/1.1 parsers (Sources/FulcrumProxy/HTTP),
// compiled together with them by fuzz/run.sh. A property that fails traps,
// and libFuzzer keeps the input that did it.
//
// Properties, for any input:
// 1. No parser traps or reads out of bounds (the address sanitizer checks).
// 2. Parsing a head in two pieces (split where the first byte says) gives
//    exactly what parsing it whole gives: the proxy sees heads arrive in
//    arbitrary TCP segments, and framing must not depend on where they fall.
// 3. A complete head's ranges lie inside its head, in order.
// 4. The body framer consumes the same bytes fed whole or in two pieces.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 1 else { return 0 }
    let split = Int(data[0]) % size
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    checkRequest(bytes, split: min(split, bytes.count))
    checkResponse(bytes, split: min(split, bytes.count))
    return 0
}

private func checkRequest(_ bytes: UnsafeRawBufferPointer, split: Int) {
    var wholeFields: [HTTPHeaderField] = []
    let whole = HTTPRequestHeadParser.parse(bytes, fields: &wholeFields)
    var parser = HTTPRequestHeadParser()
    var pieceFields: [HTTPHeaderField] = []
    var pieces = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<split]), fields: &pieceFields)
    if case .incomplete = pieces {
        pieces = parser.parse(bytes, fields: &pieceFields)
    }
    precondition(sameOutcome(whole, pieces), "request head: whole \(whole) but in pieces \(pieces)")
    guard case .complete(let head) = whole else { return }
    precondition(head.headLength <= bytes.count)
    precondition(head.methodRange.upperBound <= head.targetRange.lowerBound)
    precondition(head.targetRange.upperBound <= head.headLength)
    for field in wholeFields.prefix(head.headerCount) {
        precondition(field.name.upperBound <= field.value.lowerBound && field.value.upperBound <= head.headLength)
    }
    precondition(wholeFields.prefix(head.headerCount) == pieceFields.prefix(head.headerCount))
    checkBody(UnsafeRawBufferPointer(rebasing: bytes[head.headLength...]), mode: head.bodyMode, split: split)
}

private func checkResponse(_ bytes: UnsafeRawBufferPointer, split: Int) {
    var wholeFields: [HTTPHeaderField] = []
    let whole = HTTPResponseHeadParser.parse(bytes, fields: &wholeFields)
    var parser = HTTPResponseHeadParser()
    var pieceFields: [HTTPHeaderField] = []
    var pieces = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<split]), fields: &pieceFields)
    if case .incomplete = pieces {
        pieces = parser.parse(bytes, fields: &pieceFields)
    }
    precondition(sameOutcome(whole, pieces), "response head: whole \(whole) but in pieces \(pieces)")
    guard case .complete(let head) = whole else { return }
    precondition(head.headLength <= bytes.count && (100...999).contains(head.statusCode))
    checkBody(UnsafeRawBufferPointer(rebasing: bytes[head.headLength...]), mode: head.bodyMode(requestMethod: .get), split: split)
}

private func checkBody(_ body: UnsafeRawBufferPointer, mode: HTTPBodyFramer.Mode, split: Int) {
    var whole = HTTPBodyFramer(mode: mode)
    let wholeResult = whole.consume(body)
    var pieces = HTTPBodyFramer(mode: mode)
    let cut = min(split, body.count)
    var consumed = 0
    var pieceResult = pieces.consume(UnsafeRawBufferPointer(rebasing: body[0..<cut]))
    if case .needMore(let count) = pieceResult {
        precondition(count == cut, "needMore must consume its whole input")
        consumed = count
        pieceResult = pieces.consume(UnsafeRawBufferPointer(rebasing: body[cut...]))
    }
    switch (wholeResult, pieceResult) {
    case (.needMore(let a), .needMore(let b)):
        precondition(a == consumed + b)
    case (.messageComplete(let a), .messageComplete(let b)):
        precondition(a == consumed + b, "body ends at \(a) whole but \(consumed + b) in pieces")
    case (.failure(let a), .failure(let b)):
        precondition(a.status == b.status)
    default:
        preconditionFailure("body framer: whole \(wholeResult) but in pieces \(pieceResult)")
    }
}

private func sameOutcome<Head: Equatable>(_ a: HTTPHeadParseResult<Head>, _ b: HTTPHeadParseResult<Head>) -> Bool {
    switch (a, b) {
    case (.incomplete, .incomplete): true
    case (.complete(let x), .complete(let y)): x == y
    // The same status; the reason may name the first problem seen, which
    // can differ when a limit is met at a piece boundary.
    case (.failure(let x), .failure(let y)): x.status == y.status
    default: false
    }
}
