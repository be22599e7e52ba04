// The bare stack's server, for `npm run bench:idle`: socket.io with the Redis adapter, WebSocket
// only, each connection joining its chat's room, and nothing of RagStream. Prints its port.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub), transports: ['websocket'] });
io.of('/chat').on('connection', (socket) => {
  void socket.join(`chat:${String(socket.handshake.auth.chatId)}`);
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.once('SIGTERM', () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
