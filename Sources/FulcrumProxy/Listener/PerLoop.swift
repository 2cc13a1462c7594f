import NIOCore

/// One value per event loop of a group, each touched only from its loop:
/// a TCP listener's ``TCPLoopState``, or an HTTP listener's ``LoopTarget``s
/// with their reader, pool and retry budget.
struct PerLoop<Value>: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>]

    /// Builds each loop's value with `make(loopNumber, loop)`.
    init(group: any EventLoopGroup, _ make: (Int, any EventLoop) -> Value) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>] = [:]
        for (i, loop) in group.makeIterator().enumerated() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(make(i, loop), as: Value.self, eventLoop: loop)
        }
        self.boxes = boxes
    }

    /// The value of `loop`, which must belong to the group.
    func box(for loop: any EventLoop) -> NIOLoopBoundBox<Value> {
        boxes[ObjectIdentifier(loop)]!
    }
}
