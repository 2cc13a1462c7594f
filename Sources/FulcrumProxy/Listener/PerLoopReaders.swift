import FulcrumCore
import NIOCore

/// One ``SnapshotReader`` per event loop, so that rotation is shared by all
/// of a loop's connections (each new connection continues the loop's round
/// robin) while loops never contend with each other.
struct PerLoopReaders: Sendable {
    private let readers: [ObjectIdentifier: NIOLoopBoundBox<SnapshotReader>]

    init(cluster: Cluster, group: any EventLoopGroup) {
        var readers: [ObjectIdentifier: NIOLoopBoundBox<SnapshotReader>] = [:]
        for (i, loop) in group.makeIterator().enumerated() {
            readers[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                SnapshotReader(cluster, seed: i * 7919),
                as: SnapshotReader.self,
                eventLoop: loop
            )
        }
        self.readers = readers
    }

    func reader(for loop: any EventLoop) -> NIOLoopBoundBox<SnapshotReader> {
        readers[ObjectIdentifier(loop)]!
    }
}
