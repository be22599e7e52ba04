import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of an API node whose connections the test can cut, as a network drop would. */
export class DroppingProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  url = '';

  private constructor(target: URL) {
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      this.pair(client, upstream);
      this.pair(upstream, client);
    });
  }

  static async start(target: string): Promise<DroppingProxy> {
    const proxy = new DroppingProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy.url = `http://127.0.0.1:${address.port}`;
    return proxy;
  }

  /** Cuts every open connection; new ones are still accepted. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private pair(from: Socket, to: Socket): void {
    this.sockets.add(from);
    from.pipe(to);
    // A cut connection errors on the other side: that is the drop under test, so it only closes the pair.
    from.on('error', () => to.destroy());
    from.on('close', () => {
      this.sockets.delete(from);
      to.destroy();
    });
  }
}
