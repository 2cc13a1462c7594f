import NIOCore

/// One value per event loop of a group, each touched only from its loop:
/// an HTTP listener's ``LoopTarget``s with their reader, pool and retry
/// budget.
struct PerLoop<Value>: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>]

    /// Builds each loop's value with `make(loopNumber)`.
    init(group: any EventLoopGroup, _ make: (Int) -> Value) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>] = [:]
        for (i, loop) in group.makeIterator().enumerated() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(make(i), as: Value.self, eventLoop: loop)
        }
        self.boxes = boxes
    }

    /// The value of `loop`, which must belong to the group.
    func box(for loop: any EventLoop) -> NIOLoopBoundBox<Value> {
        boxes[ObjectIdentifier(loop)]!
    }
}
