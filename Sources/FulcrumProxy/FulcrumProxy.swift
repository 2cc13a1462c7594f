/// The NIO data plane.
public enum FulcrumProxyModule {}
