import FulcrumCore
import NIOCore
import NIOPosix

/// What one event loop's relayed connections share, built once when the
/// listener starts: the balancing reader (so the loop's connections share
/// one rotation while loops never contend), a random stream, and the
/// bootstrap that dials backends.
///
/// A TCP listener pays these per connection otherwise, and at thousands of
/// new connections a second they showed: a `getrandom` call to seed each
/// connection's generator, and a `ClientBootstrap` with its option storage
/// allocated for every backend connect. Touched only on its loop.
final class TCPLoopState {
    var reader: SnapshotReader
    var random: FastRandom
    let bootstrap: ClientBootstrap

    init(cluster: Cluster, loop: any EventLoop, loopNumber: Int, connectTimeout: TimeAmount) {
        reader = SnapshotReader(cluster, seed: loopNumber * 7919)
        random = FastRandom()
        bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try TCPConnectionHandler.setRelayOptions(channel) }
            }
    }
}
