// The proxy tests land with the proxy.
