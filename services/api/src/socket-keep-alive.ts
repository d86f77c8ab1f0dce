import type { WebSocket } from 'ws';

/**
 * Pings the socket every `intervalMs` (`KEEPALIVE_SECONDS`) and ends it when the previous ping is
 * still unanswered: a peer gone without a close (a dropped network, a sleeping laptop) is let go
 * within two intervals, with its subscription slot, and proxies see traffic on idle
 * subscriptions. For graphql-ws this replaces its adapter's own keep-alive, which makes a timer
 * and a `pong` listener per ping: with 10,000 sockets about 830 of each made and dropped a
 * second, a tenth of what the API allocated during a fan-out.
 */
export function keepAlive(socket: WebSocket, intervalMs: number): void {
  let answered = true;
  socket.on('pong', () => {
    answered = true;
  });
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, intervalMs);
  socket.once('close', () => clearInterval(timer));
}
