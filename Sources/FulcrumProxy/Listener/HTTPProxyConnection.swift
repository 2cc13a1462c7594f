import CFulcrumLinux
import CoreMetrics
import FulcrumConfig
import FulcrumCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Proxies one client connection's requests, one at a time, to backends
/// picked from the cluster, forwarding raw bytes.
///
/// The strict parsers (``HTTPRequestHeadParser``, ``HTTPResponseHeadParser``,
/// ``HTTPBodyFramer``) find only what framing and routing need; heads are
/// copied with hop-by-hop fields left out and forwarding fields spliced in
/// (``HTTPHeadRewriter``), and bodies go through as slices of the buffers
/// that were read, never decoded and re-encoded. Measured before this design
/// was chosen, decoding into NIOHTTP1's types and re-encoding cost 23 µs of
/// CPU per request against HAProxy's 16.7; forwarding bytes cost about 13.
///
/// Everything runs on the client's ``PollLoop``: backend connections are
/// dialled on it and kept in that loop's keep-alive pool, so callbacks never
/// race and nothing needs a lock.
///
/// Backpressure works in both directions: the client is not read while the
/// backend has bytes it has not taken (or, before a backend is connected,
/// while the replay buffer is full), nor while a response is pending, which
/// bounds what a pipelining client can queue; the backend is not read while
/// the client has bytes it has not taken. Each read is written on at once.
///
/// Its stored properties are `@exclusivity(unchecked)`: the connection runs
/// on one thread and never overlaps two accesses to one property, and the
/// dynamic checks cost about 2.5% of the proxy's CPU (profiled under wrk).
final class HTTPProxyConnection: StreamSocket {
    private unowned(unsafe) let owner: HTTPListenerLoop
    private let routing: HTTPRouting
    /// The routing's targets as this loop uses them.
    private let targets: [LoopTarget]
    private let logger: Logger
    private let clientTimeouts: ClientTimeouts
    private let accessLog: AccessLogFormat?
    private let accessLogger: Logger?
    private let limits: HTTPParserLimits
    private let rejected: Counter?
    @exclusivity(unchecked) private var random = FastRandom()
    /// The client's address: the peer's, or the one its PROXY header names.
    @exclusivity(unchecked) private var client: ClientAddress?
    @exclusivity(unchecked) private var clientIP: String?
    /// Both ends of the client's connection as a PROXY protocol header to a
    /// backend names them: the peer's (or the carried client's) and ours,
    /// looked up when first needed.
    @exclusivity(unchecked) private var clientEndpoint: ProxyEndpoint?
    @exclusivity(unchecked) private var carriedDestination: ProxyEndpoint?
    /// Reused for every rewritten head: by the next request the previous
    /// write has left, so `clear()` finds the storage unshared and the head
    /// is written without an allocation (a write still pending makes it
    /// copy first, which is merely the old cost).
    @exclusivity(unchecked) private var requestHeadBuffer: ByteBuffer
    /// The request head as received, for the exchange's view of it; reused
    /// like `requestHeadBuffer`, since the previous view is gone by the
    /// next head.
    @exclusivity(unchecked) private var requestHeadCopy: ByteBuffer
    @exclusivity(unchecked) private var responseHeadBuffer: ByteBuffer

    // MARK: Client side

    private enum Phase {
        /// Reading a PROXY protocol header, on a listener that requires one.
        case proxyHeader
        /// Reading a request head.
        case head
        /// Forwarding the request's body.
        case body
        /// The request has been read; its response is pending.
        case waiting
        /// The connection is closing; nothing more is read.
        case closed
    }

    @exclusivity(unchecked) private var phase = Phase.head
    /// Client bytes not yet consumed: a partial head, or what a pipelining
    /// client sent after the request in progress.
    @exclusivity(unchecked) private var inbound: ByteBuffer?
    @exclusivity(unchecked) private var parser: HTTPRequestHeadParser
    @exclusivity(unchecked) private var fields: [HTTPHeaderField] = []
    @exclusivity(unchecked) private var requestFramer = HTTPBodyFramer(mode: .none)
    /// The response head is built but not yet written (see ``startResponse(_:_:)``).
    @exclusivity(unchecked) private var headPending = false
    @exclusivity(unchecked) private var upstreamUnflushed = false
    @exclusivity(unchecked) private var clientUnflushed = false
    /// Guards ``processInbound()`` against re-entry from the responses it
    /// triggers (pipelined requests answered at once would otherwise recurse).
    @exclusivity(unchecked) private var processing = false
    @exclusivity(unchecked) private var inputClosed = false
    /// Set when the listener drains: finish the request in flight, then close.
    @exclusivity(unchecked) private var draining = false
    /// Set by ``close()``: the socket closes once what is queued has gone.
    @exclusivity(unchecked) private var closeWhenSent = false
    /// Backend reads wait for the client to take what is queued; meanwhile
    /// the client is timed, not the backend.
    @exclusivity(unchecked) private var pausedForClient = false
    /// The client has had its FIN; what it still sends is dropped.
    @exclusivity(unchecked) private var lingering = false
    /// The client may still be sending what was not read: a request body
    /// cut short by an early answer, or the rest of a refused request.
    @exclusivity(unchecked) private var unreadInput = false
    @exclusivity(unchecked) private var servedRequests = 0

    // MARK: The exchange in progress

    @exclusivity(unchecked) private var active = false
    @exclusivity(unchecked) private var view: HTTPRequestView?
    /// Whether the client's request lets the connection carry another.
    @exclusivity(unchecked) private var clientKeepAlive = false
    /// The request's method and version, kept apart from `view` so that the
    /// response path need not copy the view (a retain per field) to read them.
    @exclusivity(unchecked) private var requestMethod = HTTPRequestMethod.get
    @exclusivity(unchecked) private var requestVersion = HTTP1Version.http1_1
    @exclusivity(unchecked) private var target = 0
    @exclusivity(unchecked) private var headerHandling = RouteHeaders.defaults
    /// Body bytes kept so that a retry can resend them, up to
    /// ``retryBufferLimit`` bytes in all. Copied, not kept as slices: a
    /// slice would hold the loop's whole 64 KiB read buffer, so a body sent
    /// a byte per packet could pin gigabytes.
    @exclusivity(unchecked) private var replay: ByteBuffer
    @exclusivity(unchecked) private var replayBytes = 0
    /// Set when bytes were dropped from `replay`: the request can no longer
    /// be replayed elsewhere.
    @exclusivity(unchecked) private var replayReleased = false
    @exclusivity(unchecked) private var requestEnded = false
    @exclusivity(unchecked) private var tried = TriedBackends()
    @exclusivity(unchecked) private var attempts = 0
    /// Distinguishes attempts, so that a late event from an abandoned
    /// backend connection is ignored.
    @exclusivity(unchecked) private var attemptID = 0
    @exclusivity(unchecked) private var attemptCounter = 0
    @exclusivity(unchecked) private var backend = -1
    @exclusivity(unchecked) private var upstream: BackendConnection?
    /// The backend connection being dialled for the current attempt.
    @exclusivity(unchecked) private var dialling: BackendConnection?
    /// Which of the backend's addresses it is dialling.
    @exclusivity(unchecked) private var dialAddress = 0
    /// Whether the current attempt counts in the backend's load.
    @exclusivity(unchecked) private var attemptOpen = false
    @exclusivity(unchecked) private var attemptStarted = NIODeadline.uptimeNanoseconds(0)
    @exclusivity(unchecked) private var started = NIODeadline.uptimeNanoseconds(0)
    /// The time of the event being handled: the loop reads the clock once
    /// per turn, and everything a turn triggers uses that reading.
    private var eventNow: NIODeadline { .uptimeNanoseconds(loop.now) }
    private var eventInstant: Instant { Instant(nanoseconds: loop.now) }

    // MARK: The response

    @exclusivity(unchecked) private var responseParser: HTTPResponseHeadParser
    @exclusivity(unchecked) private var responseFields: [HTTPHeaderField] = []
    /// Bytes of a response head that is not complete yet.
    @exclusivity(unchecked) private var responseHead: ByteBuffer?
    /// Frames the response body once its final head has gone to the client.
    @exclusivity(unchecked) private var responseFramer: HTTPBodyFramer?
    /// Whether any response byte reached the client: past that point the
    /// request cannot move to another backend.
    @exclusivity(unchecked) private var clientBytesSent = false
    @exclusivity(unchecked) private var backendKeepAlive = false
    @exclusivity(unchecked) private var closeAfterResponse = false
    @exclusivity(unchecked) private var status = 0
    /// Response bytes sent to the client, for the access log.
    @exclusivity(unchecked) private var responseBytes = 0

    // MARK: Timers (CLOCK_MONOTONIC nanoseconds)

    /// When the client must have sent a complete head (or, once closing,
    /// taken what is queued for it); none while an exchange is in progress.
    @exclusivity(unchecked) private var clientDeadline: UInt64?
    /// When the backend must next show activity; none while no attempt is
    /// connected.
    @exclusivity(unchecked) private var backendDeadline: UInt64?

    init(fd: Int32, peer: ProxyEndpoint?, expectsProxyHeader: Bool, owner: HTTPListenerLoop) {
        self.owner = owner
        routing = owner.routing
        targets = owner.targets
        clientTimeouts = owner.clientTimeouts
        accessLog = owner.accessLog
        accessLogger = owner.accessLogger
        limits = owner.limits
        rejected = owner.rejected
        logger = owner.logger
        parser = HTTPRequestHeadParser(limits: limits)
        requestHeadBuffer = ByteBufferAllocator().buffer(capacity: 512)
        requestHeadCopy = ByteBufferAllocator().buffer(capacity: 512)
        replay = ByteBufferAllocator().buffer(capacity: 0)
        responseHeadBuffer = ByteBufferAllocator().buffer(capacity: 512)
        responseParser = HTTPResponseHeadParser(limits: limits)
        client = peer?.address
        clientIP = peer.map { "\($0.address)" }
        clientEndpoint = peer
        phase = expectsProxyHeader ? .proxyHeader : .head
        super.init(fd: fd, loop: owner.loop)
    }

    /// How much of a request body is kept for replay on another backend once
    /// a backend is receiving it: 64 KiB, so large uploads are not held.
    static let retryBufferLimit = 64 * 1024

    private var options: ProxyOptions { targets[target].options }

    /// How long an attempt may wait for its first response byte.
    private var attemptTimeout: TimeAmount { options.perTryTimeout ?? options.firstByteTimeout }

    // MARK: - Socket events

    /// Starts the connection once its socket is registered.
    func start() {
        awaitRequestHead()
    }

    override func handle(events: UInt32) {
        let queued = queuedBytes
        if noteEvents(events) {
            clientDrained()
        } else if pausedForClient && queuedBytes < queued {
            // A slow client that takes something is not idle.
            setClientDeadline(clientTimeouts.idle)
        }
        guard isOpen else { return }
        if lingering {
            drainLingering()
        } else if sendFailed {
            connectionLost()
        } else {
            readClient()
        }
    }

    override func anotherTurn() {
        if lingering {
            drainLingering()
        } else {
            readClient()
        }
    }

    override func deadlinePassed() {
        let now = loop.now
        if let due = clientDeadline, due <= now { clientTimerFired() }
        if isOpen, let due = backendDeadline, due <= now { backendTimedOut() }
        if isOpen { armDeadlines() }
    }

    private func armDeadlines() {
        switch (clientDeadline, backendDeadline) {
        case (let a?, let b?): loop.arm(self, at: min(a, b))
        case (let a?, nil), (nil, let a?): loop.arm(self, at: a)
        case (nil, nil): break
        }
    }

    private func setClientDeadline(_ timeout: TimeAmount?) {
        clientDeadline = timeout.map { loop.now &+ UInt64(max($0.nanoseconds, 0)) }
        if let due = clientDeadline { loop.arm(self, at: due) }
    }

    private func setBackendDeadline(_ timeout: TimeAmount?) {
        backendDeadline = timeout.map { loop.now &+ UInt64(max($0.nanoseconds, 0)) }
        if let due = backendDeadline { loop.arm(self, at: due) }
    }

    /// What was queued for the client has gone: a closing connection
    /// closes; otherwise the backend may be read again.
    private func clientDrained() {
        if closeWhenSent {
            finishSending()
        } else if pausedForClient, active, let upstream {
            // The wait is the backend's again (see ``flushClient()``).
            pausedForClient = false
            clientDeadline = nil
            setBackendDeadline(options.firstByteTimeout)
            upstream.resumeReads()
        }
    }

    /// Reads what the client sent while the phase allows, passing each read
    /// on at once.
    private func readClient() {
        let stop = readTurn(while: { clientReadAllowed }) { buffer in
            Self.accumulate(buffer, into: &inbound)
            processInbound()
            flushUpstream()
            keepInboundSmall()
        }
        switch stop {
        case .paused:
            break
        case .ended:
            // A client may send its request and shut its side; the answer
            // still goes back, then the connection closes.
            inputClosed = true
            if phase == .proxyHeader {
                proxyHeaderFailed(ProxyProtocolError(.truncated, "the peer closed before a complete header"))
            } else if phase == .body && !clientBytesSent {
                // The request can never be complete: the backend would wait
                // for the rest and be blamed for the timeout. (Once a
                // response is under way, it is let finish.)
                logger.info("client closed before its request body ended", metadata: ["client": "\(clientIP ?? "-")"])
                connectionLost()
            } else if !active {
                close()
            }
        case .failed(let code):
            logger.debug("closing client connection", metadata: ["reason": "\(SocketCallError("recv", code))"])
            connectionLost()
        }
    }

    /// Bytes kept past this read (a partial head, a pipelined request) are
    /// copied out of the loop's read buffer when they are a small part of
    /// it, so that a connection waiting on a slow client holds a few bytes
    /// rather than 64 KiB, and the loop's next read reuses its storage.
    private func keepInboundSmall() {
        guard let kept = inbound else { return }
        if kept.readableBytes == 0 {
            inbound = nil
        } else if kept.capacity >= PollLoop.readSize && kept.readableBytes <= 4096 {
            var copy = ByteBufferAllocator().buffer(capacity: kept.readableBytes)
            copy.writeImmutableBuffer(kept)
            inbound = copy
        }
    }

    /// Flushes only when something was written since the last flush.
    private func flushUpstream() {
        guard upstreamUnflushed else { return }
        upstreamUnflushed = false
        upstream?.flush()
    }

    private func flushClient() {
        guard clientUnflushed else { return }
        clientUnflushed = false
        flush()
        if sendFailed {
            connectionLost()
        } else if !isWritable, active, let upstream {
            // The client is not keeping up: stop reading the backend until
            // it has taken what is queued. Meanwhile the wait is the
            // client's: it gets the idle timeout to take something, and the
            // backend, which has nothing to do, is not timed (nor blamed).
            upstream.pauseReads()
            pausedForClient = true
            backendDeadline = nil
            setClientDeadline(clientTimeouts.idle)
        }
    }

    /// Called by the listener when it drains.
    func drain() {
        draining = true
        if !active { close() }
    }

    /// The connection is gone (or is closed now, without waiting for queued
    /// bytes): release the backend side without blaming the backend.
    func connectionLost() {
        guard isOpen else { return }
        if active {
            finishAttempt(outcome: nil)
            endExchange()
        }
        phase = .closed
        clientDeadline = nil
        backendDeadline = nil
        inbound = nil
        closeSocket()
        owner.connectionClosed(self)
    }

    override func abandon() {
        connectionLost()
    }

    // MARK: - Reading requests

    private var clientReadAllowed: Bool {
        switch phase {
        case .proxyHeader, .head: true
        case .body: upstream.map(\.isWritable) ?? (replayBytes < Self.retryBufferLimit)
        // What a pipelining client sends while a response is pending is
        // read, up to a bound.
        case .waiting: (inbound?.readableBytes ?? 0) < Self.pipelineBufferLimit
        case .closed: false
        }
    }

    /// Bytes of later requests a pipelining client may queue while a
    /// response is pending: 64 KiB, one maximal head.
    static let pipelineBufferLimit = 64 * 1024

    /// Reads the client again, after the current events, if it has input
    /// waiting that the phase now allows.
    private func resumeClientReads() {
        guard isOpen, readable, clientReadAllowed else { return }
        loop.again(self)
    }

    /// Parses and forwards what the client sent, as far as the current
    /// phase allows.
    private func processInbound() {
        guard !processing else { return }
        processing = true
        defer {
            processing = false
            // Body bytes a pipelined request had waiting go out now, not at
            // the client's next read: reads wait for them to be sent.
            flushUpstream()
        }
        while isOpen, var buffer = inbound, buffer.readableBytes > 0 {
            switch phase {
            case .proxyHeader:
                let parsed = buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(ProxyProtocolError) in try owner.proxyHeaderParser.parse(bytes) }
                }
                switch parsed {
                case .failure(let error):
                    proxyHeaderFailed(error)
                    return
                case .success(.incomplete):
                    return
                case .success(.complete(let header, let length)):
                    buffer.moveReaderIndex(forwardBy: length)
                    inbound = buffer
                    if let endpoint = header.client {
                        client = endpoint.address
                        clientIP = "\(endpoint.address)"
                        clientEndpoint = endpoint
                    }
                    if header.command == .proxy, let destination = header.addresses?.destination {
                        carriedDestination = destination
                    }
                    phase = .head
                    // The request head gets its own header timeout.
                    awaitRequestHead()
                }
            case .head:
                let result = buffer.withUnsafeReadableBytes { parser.parse($0, fields: &fields) }
                switch result {
                case .incomplete:
                    return
                case .failure(let error):
                    inbound = nil
                    rejectRequest(error)
                    return
                case .complete(let head):
                    // The head is copied out of the loop's read buffer: the
                    // exchange keeps it until the response ends, and a slice
                    // held that long would make every other read of the
                    // loop allocate fresh storage.
                    requestHeadCopy.clear()
                    requestHeadCopy.writeImmutableBuffer(buffer.readSlice(length: head.headLength)!)
                    inbound = buffer
                    startExchange(requestHeadCopy, head)
                }
            case .body:
                let result = buffer.withUnsafeReadableBytes { requestFramer.consume($0) }
                switch result {
                case .needMore(let count):
                    inbound = nil
                    forwardBody(buffer.readSlice(length: count)!)
                case .messageComplete(let count):
                    let body = buffer.readSlice(length: count)!
                    inbound = buffer
                    forwardBody(body)
                    requestEnded = true
                    phase = .waiting
                case .failure(let error):
                    inbound = nil
                    requestBodyFailed(error)
                    return
                }
            case .waiting, .closed:
                return
            }
        }
    }

    /// The spec forbids guessing whether a header is present, since falling
    /// back to the raw connection would let anyone spoof an address: a
    /// trusted source that sends no valid header is closed.
    private func proxyHeaderFailed(_ error: ProxyProtocolError) {
        logger.proxyProtocolRefused(peer: clientEndpoint, error)
        connectionLost()
    }

    private func startExchange(_ headBytes: ByteBuffer, _ head: ParsedHTTPRequestHead) {
        clientDeadline = nil
        servedRequests += 1
        active = true
        let view = HTTPRequestView(bytes: headBytes, head: head, fields: fields)
        self.view = view
        clientKeepAlive = head.keepAlive
        requestMethod = head.method
        requestVersion = head.version
        started = eventNow
        requestFramer = HTTPBodyFramer(mode: head.bodyMode, limits: limits)
        requestEnded = requestFramer.isComplete
        phase = requestEnded ? .waiting : .body
        // A reverse proxy opens no tunnels: forwarding CONNECT would hand the
        // connection's next bytes to a backend as raw data.
        if head.method == .connect {
            clientKeepAlive = false
            respondWithError(405, "Method Not Allowed", reason: "CONNECT is not proxied")
            return
        }
        guard let choice = routing.choose(view, client, &random) else {
            respondWithError(404, "Not Found", reason: "no route for \(view.host ?? "-")\(view.target)")
            return
        }
        target = choice.target
        headerHandling = choice.headers
        if let reason = choice.unauthorized {
            respondWithError(401, "Unauthorized", reason: reason, extraHeader: "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n")
            return
        }
        dispatch()
    }

    private func forwardBody(_ slice: ByteBuffer) {
        guard slice.readableBytes > 0 else { return }
        replayBytes += slice.readableBytes
        if let upstream {
            upstream.enqueue(slice)
            upstreamUnflushed = true
            if !pausedForClient { setBackendDeadline(attemptTimeout) }
        }
        if upstream != nil && replayBytes > Self.retryBufferLimit {
            // The backend has every byte; a retry could no longer resend
            // them all, so none are kept.
            replay = ByteBuffer()
            replayReleased = true
        } else if !replayReleased {
            replay.writeImmutableBuffer(slice)
        }
    }

    private func requestBodyFailed(_ error: HTTPParseError) {
        logger.info("invalid request body", metadata: ["reason": "\(error.reason)"])
        if clientBytesSent {
            finishAttempt(outcome: nil)
            endExchange()
            close()
        } else {
            finishAttempt(outcome: nil)
            requestEnded = false
            respondWithError(error.status, Self.reasonPhrase(error.status), reason: error.reason)
        }
    }

    /// A head the parser refused: answer with its status and close.
    private func rejectRequest(_ error: HTTPParseError) {
        logger.info(
            "\(error.status) \(Self.reasonPhrase(error.status)): \(error.reason)",
            metadata: ["client": "\(clientIP ?? "-")"]
        )
        phase = .closed
        unreadInput = true
        rejected?.increment()
        writeErrorResponse(error.status, Self.reasonPhrase(error.status), retryAfter: false, close: true, http10KeepAlive: false)
    }

    // MARK: - Attempts

    private func dispatch() {
        guard isOpen, active else { return }
        let loopTarget = targets[target]
        let cluster = loopTarget.cluster
        var pick = PickContext(random: random, now: eventInstant)
        pick.tried = tried
        pick.client = client
        let result: PickResult
        if loopTarget.options.hashKey == .clientIP, let client {
            result = client.withBytes { bytes in
                pick.hashKey = bytes
                return loopTarget.reader.pick(&pick)
            }
        } else if let hashKey = loopTarget.options.hashKey, let view, var key = hashKey.value(in: view) {
            result = key.withUTF8 { bytes in
                pick.hashKey = UnsafeRawBufferPointer(bytes)
                return loopTarget.reader.pick(&pick)
            }
        } else {
            result = loopTarget.reader.pick(&pick)
        }
        random = pick.random
        guard let index = result.index else {
            let why = if case .unavailable(let why) = result { why.rawValue } else { "no backend" }
            respondWithError(503, "Service Unavailable", reason: why, retryAfter: true)
            return
        }
        let backend = cluster.backends[index]
        if attempts == 0 { loopTarget.retryBudget.deposit() }
        attemptCounter += 1
        attempts += 1
        attemptID = attemptCounter
        self.backend = index
        tried.insert(index)
        attemptStarted = eventNow
        attemptOpen = true
        backend.load.start()

        let attemptID = attemptCounter
        if loopTarget.options.sendProxyProtocol == nil, let idle = loopTarget.pool.checkout(index, now: loop.now) {
            idle.attach(self, attemptID: attemptID)
            connected(idle, attemptID: attemptID)
            return
        }
        guard !loopTarget.addresses.all(index).isEmpty else {
            attemptFailed(attemptID: attemptID, reason: "connect: cannot resolve \(backend.address.host)", connectFailed: true)
            return
        }
        dialAddress = 0
        dial(attemptID: attemptID)
    }

    /// Dials address `dialAddress` of the attempt's backend.
    private func dial(attemptID: Int) {
        let loopTarget = targets[target]
        let addresses = loopTarget.addresses.all(backend)
        let connection: BackendConnection
        do {
            connection = try BackendConnection.connect(
                to: addresses[dialAddress],
                timeout: UInt64(max(loopTarget.options.connectTimeout.nanoseconds, 0)),
                loop: loop,
                pool: loopTarget.pool,
                backend: backend
            )
        } catch {
            if error.isLocal {
                // Out of descriptors or ports here: no backend is to blame
                // (under exhaustion that would eject them all).
                finishAttempt(outcome: nil)
                respondWithError(503, "Service Unavailable", reason: "cannot connect: \(error.description)", retryAfter: true)
            } else {
                backendConnectFailed(attemptID: attemptID, error)
            }
            return
        }
        connection.attach(self, attemptID: attemptID)
        dialling = connection
    }

    /// A backend connection this connection dialled has connected.
    func backendConnected(_ upstream: BackendConnection, attemptID: Int) {
        connected(upstream, attemptID: attemptID)
    }

    /// A backend connection this connection dialled did not connect; it has
    /// closed itself. A name with several addresses has the next one tried
    /// when this one refused or had no route, as Happy Eyeballs would.
    func backendConnectFailed(attemptID: Int, _ failure: BackendConnection.ConnectFailure) {
        guard active, self.attemptID == attemptID else { return }
        dialling = nil
        if failure.triesNextAddress && dialAddress + 1 < targets[target].addresses.all(backend).count {
            dialAddress += 1
            dial(attemptID: attemptID)
            return
        }
        attemptFailed(attemptID: attemptID, reason: "connect: \(failure.description)", connectFailed: true)
    }

    private func connected(_ upstream: BackendConnection, attemptID: Int) {
        guard isOpen, active, self.attemptID == attemptID, let view else {
            upstream.close()
            return
        }
        dialling = nil
        self.upstream = upstream
        // The head goes into this connection's own buffer: by the next
        // request the previous write has left, so no allocation is needed.
        requestHeadBuffer.clear()
        if let version = options.sendProxyProtocol {
            let destination = carriedDestination ?? SocketCalls.localEndpoint(fd)
            let addresses = clientEndpoint.flatMap { client in
                destination.map { ProxyHeader.Addresses(source: client, destination: $0) }
            }
            requestHeadBuffer.writeBytes(ProxyHeader(version: version, addresses: addresses).encoded())
        }
        HTTPHeadRewriter.writeRequestHead(
            view,
            edits: .init(
                handling: headerHandling,
                clientIP: clientIP,
                backend: targets[target].cluster.backends[backend].address,
                requestID: random.next()
            ),
            into: &requestHeadBuffer
        )
        upstream.enqueue(requestHeadBuffer)
        if replay.readableBytes > 0 { upstream.enqueue(replay) }
        upstreamUnflushed = true
        flushUpstream()
        setBackendDeadline(attemptTimeout)
        resumeClientReads()
    }

    /// The backend can take writes again: the client may be read again.
    func backendBecameWritable() {
        resumeClientReads()
    }

    /// An attempt ended before any response byte reached the client.
    private func attemptFailed(attemptID: Int, reason: String, connectFailed: Bool) {
        guard active, self.attemptID == attemptID, !clientBytesSent else { return }
        let loopTarget = targets[target]
        let backendID = loopTarget.cluster.backends[backend].id
        finishAttempt(outcome: .gatewayFailure(reason: reason))
        if retryElsewhere(connectFailed: connectFailed, backendID: backendID, reason: reason) {
            return
        } else if connectFailed && loopTarget.reader.current().mode == .panic {
            // Every backend is known to be down and panic routing tried one
            // anyway: the service is unavailable, not misbehaving.
            respondWithError(
                503,
                "Service Unavailable",
                reason: "no healthy backend (panic routing tried \(backendID): \(reason))",
                retryAfter: true
            )
        } else {
            respondWithError(502, "Bad Gateway", reason: "backend \(backendID): \(reason)")
        }
    }

    /// Sends the request to another backend if it may go: a connect failure
    /// never reached the backend, while a request that did (a reset, a
    /// per-try timeout) is retried only for idempotent methods; the body
    /// must still be replayable, the retry count and budget must allow it.
    private func retryElsewhere(connectFailed: Bool, backendID: String, reason: String) -> Bool {
        let idempotent: Bool =
            switch requestMethod {
            case .get, .head, .options, .put, .delete, .trace: true
            default: false
            }
        guard !replayReleased && (connectFailed || idempotent) && attempts <= options.retries && reserveRetry() else {
            return false
        }
        targets[target].counters.retries.increment()
        logger.info(
            "retrying on another backend",
            metadata: ["cluster": "\(targets[target].name)", "backend": "\(backendID)", "reason": "\(reason)"]
        )
        resetResponse()
        dispatch()
        return true
    }

    /// Takes a token from this loop's retry budget for the cluster.
    private func reserveRetry() -> Bool {
        let granted = targets[target].retryBudget.tryWithdraw(now: eventInstant)
        if !granted {
            logger.info("retry budget exhausted", metadata: ["cluster": "\(targets[target].name)"])
        }
        return granted
    }

    /// Ends the current attempt's bookkeeping: load, outcome (nil when the
    /// backend is not to blame), and the backend connection, which goes back
    /// to the pool when `reuse` allows.
    private func finishAttempt(outcome: PassiveOutcome?, reuse: Bool = false) {
        guard attemptOpen else { return }
        let loopTarget = targets[target]
        let cluster = loopTarget.cluster
        attemptOpen = false
        backendDeadline = nil
        if let dialling {
            dialling.close()
            self.dialling = nil
        }
        let latency = Duration.nanoseconds((eventNow - attemptStarted).nanoseconds)
        cluster.backends[backend].load.finish(latency: latency, at: eventInstant)
        if let outcome {
            for event in cluster.recordOutcome(outcome, backend: backend) {
                logger.warning("\(event)")
            }
        }
        if let upstream {
            upstream.detach()
            if reuse {
                loopTarget.pool.checkin(upstream, now: loop.now)
            } else {
                upstream.close()
            }
        }
        upstream = nil
    }

    private func resetResponse() {
        headPending = false
        responseHead = nil
        responseFramer = nil
        clientBytesSent = false
        backendKeepAlive = false
        closeAfterResponse = false
        status = 0
        responseBytes = 0
        responseParser.reset()
    }

    /// Forgets the finished exchange, keeping buffers' capacity.
    private func endExchange() {
        if phase == .body { unreadInput = true }
        pausedForClient = false
        active = false
        view = nil
        // A small buffer is kept for the next body; a large one is let go,
        // so an idle keep-alive connection does not hold its last upload.
        if replay.capacity > 4096 { replay = ByteBuffer() } else { replay.clear() }
        replayBytes = 0
        replayReleased = false
        requestEnded = false
        tried = TriedBackends()
        attempts = 0
        backend = -1
        upstream = nil
        backendDeadline = nil
        resetResponse()
    }

    // MARK: - Responses

    func backendRead(_ buffer: ByteBuffer, attemptID: Int) {
        guard active, self.attemptID == attemptID else { return }
        setBackendDeadline(options.firstByteTimeout)
        if responseFramer != nil {
            forwardResponseBody(buffer)
        } else {
            Self.accumulate(buffer, into: &responseHead)
            parseResponseHead()
        }
        // Each read goes on to the client at once, so what is held per
        // connection is at most one read.
        flushClient()
    }

    private func parseResponseHead() {
        while isOpen, active, var buffer = responseHead {
            let result = buffer.withUnsafeReadableBytes { responseParser.parse($0, fields: &responseFields) }
            switch result {
            case .incomplete:
                return
            case .failure(let error):
                responseHead = nil
                backendBroke(reason: "invalid response: \(error.reason)")
                return
            case .complete(let head):
                let headBytes = buffer.readSlice(length: head.headLength)!
                responseHead = buffer.readableBytes > 0 ? buffer : nil
                if head.isInformational {
                    if head.statusCode == 101 {
                        responseHead = nil
                        backendBroke(reason: "101 Switching Protocols without an upgrade request")
                        return
                    }
                    // 100 Continue and 103 Early Hints pass through as sent;
                    // HTTP/1.0 clients must not get them (RFC 9110 §15.2).
                    if requestVersion == .http1_1 {
                        clientBytesSent = true
                        writeToClient(headBytes)
                    }
                    continue
                }
                startResponse(head, headBytes)
                if let rest = responseHead {
                    responseHead = nil
                    forwardResponseBody(rest)
                }
                writePendingHead()
                return
            }
        }
    }

    private func startResponse(_ head: ParsedHTTPResponseHead, _ headBytes: ByteBuffer) {
        status = head.statusCode
        let mode = head.bodyMode(requestMethod: requestMethod)
        backendKeepAlive = head.keepAlive(requestMethod: requestMethod)
        if case .untilClose = mode { closeAfterResponse = true }
        let closing = !clientKeepAlive || draining || inputClosed || closeAfterResponse || !requestEnded
        let connection: HTTPHeadRewriter.ClientConnection =
            closing ? .close : (requestVersion == .http1_0 ? .keepAlive : .implicit)
        if closing { closeAfterResponse = true }
        responseHeadBuffer.clear()
        HTTPHeadRewriter.writeResponseHead(
            headBytes,
            head: head,
            fields: responseFields,
            connection: connection,
            into: &responseHeadBuffer
        )
        clientBytesSent = true
        // Written with the first piece of body when that is small, so that a
        // typical response leaves in one buffer (one pending write, one iovec).
        headPending = true
        let framer = HTTPBodyFramer(mode: mode, limits: limits)
        responseFramer = framer
        if framer.isComplete {
            // Bytes behind a response without a body: the connection's
            // framing is lost, so it is not reused.
            if responseHead != nil { backendKeepAlive = false }
            completeResponse()
        }
    }

    /// Writes the response head if it is still waiting for body bytes.
    private func writePendingHead() {
        guard headPending else { return }
        headPending = false
        writeToClient(responseHeadBuffer)
    }

    /// Writes response body bytes, appended to a pending head when small.
    private func writeBody(_ slice: ByteBuffer) {
        if headPending && slice.readableBytes <= Self.coalesceLimit {
            var slice = slice
            responseHeadBuffer.writeBuffer(&slice)
            writePendingHead()
        } else {
            writePendingHead()
            writeToClient(slice)
        }
    }

    /// The largest body piece copied behind a response head: copying a few
    /// KiB costs less than a second pending write.
    static let coalesceLimit = 4096

    private func forwardResponseBody(_ buffer: ByteBuffer) {
        var buffer = buffer
        let result = buffer.withUnsafeReadableBytes { responseFramer!.consume($0) }
        switch result {
        case .needMore(let count):
            responseBytes += count
            writeBody(buffer)
        case .messageComplete(let count):
            responseBytes += count
            if count > 0 { writeBody(buffer.readSlice(length: count)!) }
            // Bytes after the response's end: the connection's framing is
            // lost, so it is not reused.
            if buffer.readableBytes > 0 { backendKeepAlive = false }
            completeResponse()
        case .failure(let error):
            backendBroke(reason: "invalid response body: \(error.reason)")
        }
    }

    private func writeToClient(_ buffer: ByteBuffer) {
        guard isOpen else { return }
        enqueue(buffer)
        clientUnflushed = true
    }

    private func completeResponse() {
        writePendingHead()
        let status = self.status
        finishAttempt(
            outcome: (502...504).contains(status) ? .gatewayFailure(reason: "HTTP \(status)") : .success,
            reuse: backendKeepAlive && requestEnded && options.sendProxyProtocol == nil
        )
        targets[target].counters.response(status: status, backend: backend)
        logAccess(status: status)
        let close = closeAfterResponse || !clientKeepAlive || draining || inputClosed || !requestEnded
        endExchange()
        if close {
            self.close()
        } else {
            flushClient()
            guard isOpen else { return }
            phase = .head
            awaitRequestHead()
            processInbound()
            resumeClientReads()
        }
    }

    func backendClosed(attemptID: Int) {
        guard active, self.attemptID == attemptID else { return }
        if responseFramer != nil, case .messageComplete = responseFramer!.connectionClosed() {
            // A body delimited by the connection's end.
            backendKeepAlive = false
            completeResponse()
        } else if clientBytesSent {
            backendBroke(reason: "closed mid-response")
        } else {
            attemptFailed(attemptID: attemptID, reason: "connection closed before the response", connectFailed: false)
        }
    }

    /// The backend broke the exchange: a 502 if the client has seen nothing
    /// yet, otherwise the client connection closes, because a response cut
    /// off mid-way cannot be finished cleanly.
    private func backendBroke(reason: String) {
        guard active else { return }
        writePendingHead()
        let backendID = targets[target].cluster.backends[backend].id
        finishAttempt(outcome: .gatewayFailure(reason: reason))
        if clientBytesSent {
            logger.warning(
                "response cut off",
                metadata: ["cluster": "\(targets[target].name)", "backend": "\(backendID)", "reason": "\(reason)"]
            )
            targets[target].counters.response(status: status, backend: backend)
            logAccess(status: status)
            endExchange()
            close()
        } else {
            respondWithError(502, "Bad Gateway", reason: "backend \(backendID): \(reason)")
        }
    }

    private func backendTimedOut() {
        guard active, attemptOpen else { return }
        let backendID = targets[target].cluster.backends[backend].id
        if clientBytesSent {
            backendBroke(reason: "no data for \(options.firstByteTimeout)")
            return
        }
        let timeout = attemptTimeout
        let reason = "no response within \(timeout)"
        finishAttempt(outcome: .gatewayFailure(reason: reason))
        if options.perTryTimeout != nil, retryElsewhere(connectFailed: false, backendID: backendID, reason: reason)
        {
            return
        }
        respondWithError(504, "Gateway Timeout", reason: "backend \(backendID) sent nothing within \(timeout)")
    }

    /// Answers the exchange in progress with an error of the proxy's own,
    /// logged with its reason.
    private func respondWithError(
        _ status: Int,
        _ phrase: StaticString,
        reason: String,
        retryAfter: Bool = false,
        extraHeader: StaticString? = nil
    ) {
        guard isOpen else { return }
        let target = view?.target ?? ""
        logger.warning(
            "\(status) \(phrase): \(reason)",
            metadata: ["cluster": "\(targets.isEmpty ? "-" : targets[self.target].name)", "uri": "\(target)"]
        )
        self.status = status
        responseBytes = Self.errorBodyLength(phrase)
        if !targets.isEmpty { targets[self.target].counters.response(status: status, backend: -1) }
        logAccess(status: status)
        // An unread request body cannot be skipped reliably: close.
        let close = !clientKeepAlive || draining || inputClosed || !requestEnded
        let http10KeepAlive = !close && view != nil && requestVersion == .http1_0
        let headRequest = view != nil && requestMethod == .head
        if attemptOpen { finishAttempt(outcome: nil) }
        endExchange()
        writeErrorResponse(
            status,
            phrase,
            retryAfter: retryAfter,
            extraHeader: extraHeader,
            close: close,
            http10KeepAlive: http10KeepAlive,
            // A response to HEAD has no body (RFC 9110 §9.3.2); one sent
            // anyway would be read as the start of the next response.
            withBody: !headRequest
        )
        if !close && isOpen {
            phase = .head
            awaitRequestHead()
            processInbound()
            resumeClientReads()
        }
    }

    /// The length of an error response's body, `CODE PHRASE\n`.
    private static func errorBodyLength(_ phrase: StaticString) -> Int {
        phrase.utf8CodeUnitCount + 5
    }

    private func writeErrorResponse(
        _ status: Int,
        _ phrase: StaticString,
        retryAfter: Bool,
        extraHeader: StaticString? = nil,
        close: Bool,
        http10KeepAlive: Bool,
        withBody: Bool = true
    ) {
        guard isOpen else { return }
        var out = ByteBufferAllocator().buffer(capacity: 160)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(status))
        out.writeStaticString(" ")
        out.writeStaticString(phrase)
        out.writeStaticString("\r\nContent-Type: text/plain\r\nContent-Length: ")
        out.writeString(String(Self.errorBodyLength(phrase)))
        out.writeStaticString("\r\n")
        if retryAfter { out.writeStaticString("Retry-After: 1\r\n") }
        if let extraHeader { out.writeStaticString(extraHeader) }
        if close {
            out.writeStaticString("Connection: close\r\n")
        } else if http10KeepAlive {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        if withBody {
            out.writeString(String(status))
            out.writeStaticString(" ")
            out.writeStaticString(phrase)
            out.writeStaticString("\n")
        }
        enqueue(out)
        clientUnflushed = true
        if close {
            self.close()
        } else {
            flushClient()
        }
    }

    /// Flushes what is queued for the client, then closes. When the client
    /// may still be sending, it first gets a FIN and what it sends is read
    /// and dropped until its own FIN (at most ``lingerTime``): closing a
    /// socket with unread input resets it, and a reset can destroy the
    /// response before the client has read it.
    private func close() {
        guard isOpen, !closeWhenSent else { return }
        phase = .closed
        closeWhenSent = true
        clientUnflushed = false
        flush()
        if sendFailed {
            connectionLost()
        } else if isWritable {
            finishSending()
        } else {
            // A client that stops reading is given up at the idle timeout.
            setClientDeadline(clientTimeouts.idle)
        }
    }

    /// How long a closing client may go on sending after its FIN.
    static let lingerTime = TimeAmount.seconds(2)

    private func finishSending() {
        guard !lingering else { return }
        // Nothing unread and nothing coming: no reset to fear.
        if inputClosed || !(readable || inbound != nil || unreadInput) {
            connectionLost()
            return
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        lingering = true
        setClientDeadline(Self.lingerTime)
        drainLingering()
    }

    private func drainLingering() {
        for _ in 0..<PollLoop.readsPerTurn {
            switch loop.read(fd) {
            case .bytes, .interrupted:
                continue
            case .wouldBlock:
                readable = false
                return
            case .end, .failed:
                connectionLost()
                return
            }
        }
        loop.again(self)
    }

    /// Appends newly read bytes to those not consumed yet. The pending
    /// buffer is taken out of its variable first, so that appending does not
    /// copy storage that the variable still shares.
    private static func accumulate(_ buffer: ByteBuffer, into pending: inout ByteBuffer?) {
        guard var existing = pending.take(), existing.readableBytes > 0 else {
            pending = buffer
            return
        }
        var buffer = buffer
        existing.writeBuffer(&buffer)
        pending = existing
    }

    static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Error"
        }
    }

    // MARK: - Timers

    /// Starts waiting for the next request head: the header timeout for a
    /// new connection's first request (a slowloris defence), the idle
    /// timeout between keep-alive requests.
    private func awaitRequestHead() {
        guard isOpen else { return }
        if phase == .proxyHeader {
            setClientDeadline(min(clientTimeouts.header, Self.proxyHeaderTimeout))
        } else {
            setClientDeadline(servedRequests == 0 ? clientTimeouts.header : clientTimeouts.idle)
        }
    }

    /// The most a trusted source gets to send its PROXY header, as on TCP
    /// listeners (the spec asks for at least 3 s, to cover a retransmit).
    static let proxyHeaderTimeout = TimeAmount.seconds(5)

    private func clientTimerFired() {
        clientDeadline = nil
        if phase == .proxyHeader {
            let timeout = min(clientTimeouts.header, Self.proxyHeaderTimeout)
            proxyHeaderFailed(ProxyProtocolError(.timeout, "no complete header within \(timeout)"))
            return
        }
        if active {
            logger.info(
                "closing client connection",
                metadata: ["reason": "took none of the response for \(clientTimeouts.idle)", "client": "\(clientIP ?? "-")"]
            )
        } else if !closeWhenSent {
            let first = servedRequests == 0
            logger.debug(
                "closing client connection",
                metadata: ["reason": "\(first ? "no request head within" : "idle for") \(first ? clientTimeouts.header : clientTimeouts.idle)"]
            )
        }
        connectionLost()
    }

    // MARK: - Access log

    /// One access-log line for the finished exchange, when the listener
    /// has an access log.
    private func logAccess(status: Int) {
        guard let format = accessLog, let view, let accessLogger else { return }
        let loopTarget = targets[target]
        let record = AccessRecord(
            client: clientIP ?? "-",
            method: view.method,
            uri: view.target,
            version: view.version,
            status: status,
            bytes: responseBytes,
            referer: view.header("Referer"),
            userAgent: view.header("User-Agent"),
            cluster: loopTarget.name,
            backend: backend >= 0 ? loopTarget.cluster.backends[backend].id : "-",
            upstreamMilliseconds: Double((eventNow - started).nanoseconds) / 1e6,
            retries: max(0, attempts - 1)
        )
        let unixSeconds = Int(time(nil))
        accessLogger.info("\(record.line(format, unixSeconds: unixSeconds))")
    }
}
